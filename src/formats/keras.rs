//! Keras model architecture reader: the `.keras` zip (Keras 3 saving format:
//! config.json, metadata.json, model.weights.h5; keras/src/saving/saving_lib.py)
//! and the JSON of a legacy `.h5` model_config attribute, walked without Keras.
//! Looks for Lambda layers (their function is marshalled Python bytecode,
//! base64: loading runs it where safe_mode is off or absent) and custom
//! objects (classes from modules outside Keras: code the loader imports).
//!
//! Entry points: `read_keras(path)`, `parse_keras_zip(reader)` and
//! `parse_keras_config(json_bytes)` (the architecture JSON alone).

use std::io::{Read, Seek};
use std::path::Path;

use serde_json::Value;

use crate::model::keras::{KerasCustomObject, KerasLambda, KerasReport, MAX_LISTED};
use crate::model::metadata::{MAX_NOTES, sanitize};

/// Largest config.json read (real ones are kilobytes to a few MB; the parsed
/// tree costs several times its text).
pub const MAX_CONFIG_BYTES: u64 = 8 * 1024 * 1024;
const MAX_METADATA_BYTES: u64 = 1024 * 1024;
/// Deepest object nesting walked (serde_json itself stops at 128).
pub const MAX_DEPTH: u32 = 100;
/// Most serialised objects looked at.
pub const MAX_OBJECTS: u64 = 200_000;

/// Read the `.keras` archive at `path`.
pub fn read_keras(path: &Path) -> Result<KerasReport, String> {
    let f =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    parse_keras_zip(std::io::BufReader::new(f))
}

/// Most zip entries accepted (a Keras archive has three or four).
pub const MAX_ZIP_ENTRIES: u64 = 10_000;

/// The entry count of the end-of-central-directory record, read before the
/// zip crate loads the whole central directory into memory.
fn zip_entry_count<R: Read + Seek>(r: &mut R) -> Result<u64, String> {
    use std::io::SeekFrom;
    let len = r.seek(SeekFrom::End(0)).map_err(|e| e.to_string())?;
    let tail = len.min(22 + 65_535);
    r.seek(SeekFrom::Start(len - tail))
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    r.by_ref()
        .take(tail)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    r.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    let at = buf
        .windows(4)
        .rposition(|w| w == b"PK\x05\x06")
        .ok_or("not a readable zip: no end-of-central-directory record")?;
    let n = buf
        .get(at + 10..at + 12)
        .ok_or("not a readable zip: end-of-central-directory record cut")?;
    Ok(u64::from(u16::from_le_bytes([n[0], n[1]])))
}

/// Member names of a zip, or why it is not one.
pub fn zip_members<R: Read + Seek>(mut r: R) -> Result<(zip::ZipArchive<R>, Vec<String>), String> {
    let n = zip_entry_count(&mut r)?;
    if n > MAX_ZIP_ENTRIES {
        return Err(format!("zip claims {n} entries (cap {MAX_ZIP_ENTRIES})"));
    }
    let z = zip::ZipArchive::new(r).map_err(|e| format!("not a readable zip: {e}"))?;
    let names = (0..z.len().min(MAX_ZIP_ENTRIES as usize))
        .filter_map(|i| {
            z.name_for_index(i)
                .and_then(|r| r.ok())
                .map(|c| c.into_owned())
        })
        .collect();
    Ok((z, names))
}

/// Does a zip with these members follow the Keras 3 layout?
pub fn is_keras_layout(names: &[String]) -> bool {
    let has = |n: &str| names.iter().any(|m| m == n);
    has("config.json") && (has("metadata.json") || has("model.weights.h5"))
}

fn member<R: Read + Seek>(
    z: &mut zip::ZipArchive<R>,
    name: &str,
    cap: u64,
) -> Result<Vec<u8>, String> {
    let m = z.by_name(name).map_err(|e| format!("{name}: {e}"))?;
    if m.size() > cap {
        return Err(format!("{name} claims {} bytes (cap {cap})", m.size()));
    }
    let mut buf = Vec::new();
    m.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("{name}: {e}"))?;
    if buf.len() as u64 > cap {
        return Err(format!("{name} inflates past {cap} bytes"));
    }
    Ok(buf)
}

/// Parse a `.keras` archive from a seekable reader.
pub fn parse_keras_zip<R: Read + Seek>(r: R) -> Result<KerasReport, String> {
    let (mut z, names) = zip_members(r)?;
    if !is_keras_layout(&names) {
        return Err("zip without config.json plus metadata.json or model.weights.h5".into());
    }
    let config = member(&mut z, "config.json", MAX_CONFIG_BYTES)?;
    let mut rep = parse_keras_config(&config);
    rep.config_source = Some("config.json".into());
    if names.iter().any(|n| n == "metadata.json") {
        match member(&mut z, "metadata.json", MAX_METADATA_BYTES)
            .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|e| e.to_string()))
        {
            Ok(v) => {
                let s = |k: &str| v.get(k).and_then(Value::as_str).map(|s| sanitize(s, 64));
                rep.keras_version = s("keras_version");
                rep.backend = s("backend");
            }
            Err(e) => note(&mut rep, format!("metadata.json unreadable: {e}")),
        }
    }
    Ok(rep)
}

/// Walk an architecture JSON (config.json or a model_config attribute). A
/// JSON error or a cap leaves `layers_checked` false with a note saying why.
pub fn parse_keras_config(json: &[u8]) -> KerasReport {
    let mut rep = KerasReport::default();
    match serde_json::from_slice::<Value>(json) {
        Ok(v) => walk_config(&v, &mut rep),
        Err(e) => note(&mut rep, format!("architecture JSON unreadable: {e}")),
    }
    rep
}

/// Walk a parsed architecture into `rep` (sets `layers_checked` when complete).
pub fn walk_config(v: &Value, rep: &mut KerasReport) {
    let mut w = Walker {
        rep,
        without_module: 0,
        with_module: 0,
        stopped: None,
    };
    w.walk(v, "model", 0);
    let (without, with) = (w.without_module, w.with_module);
    match w.stopped.take() {
        Some(why) => note(rep, why),
        None => rep.layers_checked = true,
    }
    if without > 0 && with == 0 {
        note(
            rep,
            "legacy config without module names: custom classes cannot be told from Keras ones by name"
                .into(),
        );
    }
}

fn note(rep: &mut KerasReport, s: String) {
    if rep.notes.len() < MAX_NOTES {
        rep.notes.push(sanitize(&s, 512));
    }
}

struct Walker<'a> {
    rep: &'a mut KerasReport,
    without_module: u64,
    with_module: u64,
    stopped: Option<String>,
}

/// Serialisation markers of Keras 3 for plain Python values, not classes.
fn is_builtin_marker(class: &str) -> bool {
    class.starts_with("__") && class.ends_with("__") && class != "__lambda__"
}

fn is_keras_module(m: &str) -> bool {
    m == "keras" || m.starts_with("keras.")
}

impl Walker<'_> {
    fn walk(&mut self, v: &Value, at: &str, depth: u32) {
        if self.stopped.is_some() {
            return;
        }
        if depth > MAX_DEPTH {
            self.stopped = Some(format!("nesting deeper than {MAX_DEPTH} at {at}"));
            return;
        }
        match v {
            Value::Array(a) => a.iter().for_each(|x| self.walk(x, at, depth + 1)),
            Value::Object(o) => {
                let mut here = at.to_string();
                if let Some(class) = o.get("class_name").and_then(Value::as_str) {
                    self.object(o, class, at, &mut here);
                    if self.stopped.is_some() {
                        return;
                    }
                }
                for (k, x) in o {
                    if k != "class_name" && k != "module" && k != "registered_name" {
                        self.walk(x, &here, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }

    fn object(
        &mut self,
        o: &serde_json::Map<String, Value>,
        class: &str,
        at: &str,
        here: &mut String,
    ) {
        self.rep.object_count += 1;
        if self.rep.object_count > MAX_OBJECTS {
            self.stopped = Some(format!("more than {MAX_OBJECTS} serialised objects"));
            return;
        }
        let config = o.get("config");
        let layer_name = config
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .unwrap_or(class);
        *here = format!("{at}/{}", sanitize(layer_name, 80));
        if class == "Lambda" {
            self.lambda(config, here);
        }
        let module = o.get("module").and_then(Value::as_str);
        let registered = o.get("registered_name").and_then(Value::as_str);
        if is_builtin_marker(class) {
            return;
        }
        match module {
            Some(_) => self.with_module += 1,
            None => self.without_module += 1,
        }
        let foreign_module = module.is_some_and(|m| !is_keras_module(m));
        // register_keras_serializable(package=P) names objects "P>Name".
        let foreign_package = registered
            .and_then(|r| r.split_once('>'))
            .is_some_and(|(pkg, _)| pkg != "keras" && !pkg.starts_with("keras."));
        if (foreign_module || foreign_package) && self.rep.custom_objects.len() < MAX_LISTED {
            self.rep.custom_objects.push(KerasCustomObject {
                class_name: sanitize(class, 128),
                module: module.map(|m| sanitize(m, 128)),
                registered_name: registered.map(|r| sanitize(r, 128)),
                at: here.clone(),
            });
        }
    }

    /// Keras 3: config.function = {"class_name": "__lambda__", "config": {"code": b64, ...}};
    /// Keras 2 / tf.keras: function_type "lambda" with function [b64, defaults, closure].
    fn lambda(&mut self, config: Option<&Value>, here: &str) {
        let function = config.and_then(|c| c.get("function"));
        let function_type = config
            .and_then(|c| c.get("function_type"))
            .and_then(Value::as_str);
        let code = match function {
            Some(Value::Object(f))
                if f.get("class_name").and_then(Value::as_str) == Some("__lambda__") =>
            {
                f.get("config")
                    .and_then(|c| c.get("code"))
                    .and_then(Value::as_str)
            }
            Some(Value::Array(a)) if function_type == Some("lambda") => {
                a.first().and_then(Value::as_str)
            }
            Some(Value::String(s)) if function_type == Some("lambda") => Some(s.as_str()),
            _ => None,
        };
        let (bytecode, detail) = match (code, function) {
            (Some(c), _) => (
                true,
                format!("base64 marshal bytecode, {} bytes encoded", c.len()),
            ),
            (None, Some(Value::String(name))) => (
                false,
                format!(
                    "names function {}{}",
                    config
                        .and_then(|c| c.get("module"))
                        .and_then(Value::as_str)
                        .map(|m| format!("{}.", sanitize(m, 128)))
                        .unwrap_or_default(),
                    sanitize(name, 128)
                ),
            ),
            (None, Some(Value::Object(f))) => (
                false,
                format!(
                    "names {} {}",
                    f.get("module")
                        .and_then(Value::as_str)
                        .map(|m| sanitize(m, 128))
                        .unwrap_or_default(),
                    f.get("config")
                        .and_then(Value::as_str)
                        .map(|m| sanitize(m, 128))
                        .unwrap_or_default(),
                ),
            ),
            (None, _) => (false, "function field absent or of an unknown shape".into()),
        };
        if self.rep.lambdas.len() < MAX_LISTED {
            self.rep.lambdas.push(KerasLambda {
                layer: here.to_string(),
                bytecode,
                detail,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_with_too_many_entries_is_refused_before_loading() {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for i in 0..(MAX_ZIP_ENTRIES + 1) {
            w.start_file(format!("{i}"), zip::write::SimpleFileOptions::default())
                .unwrap();
        }
        let bytes = w.finish().unwrap().into_inner();
        let e = parse_keras_zip(std::io::Cursor::new(bytes)).unwrap_err();
        assert!(e.contains("10001 entries"), "{e}");
    }

    #[test]
    fn deep_and_broken_json_is_unchecked_not_safe() {
        let r = parse_keras_config(b"{\"class_name\": ");
        assert!(!r.layers_checked);
        assert!(r.notes[0].contains("unreadable"), "{:?}", r.notes);
        let deep = "[".repeat(200) + &"]".repeat(200);
        let r = parse_keras_config(deep.as_bytes());
        assert!(!r.layers_checked, "{r:?}");
        // Deep but within serde's limit: the walker's own cap.
        let mut v = serde_json::json!({"class_name": "Dense", "config": {}});
        for _ in 0..MAX_DEPTH {
            v = serde_json::json!([v]);
        }
        let mut rep = KerasReport::default();
        walk_config(&v, &mut rep);
        assert!(!rep.layers_checked);
        assert!(rep.notes[0].contains("deeper"), "{:?}", rep.notes);
    }
}
