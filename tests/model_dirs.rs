//! Model directories beyond Ollama and the Hugging Face cache, laid out as LM
//! Studio, llama.cpp, ComfyUI and text-generation-webui lay them out, holding real
//! model files (the tiny GGUF from the gguf writer, the safetensors fixture from the
//! safetensors writer); servers are stand-in processes with the real products'
//! command lines that hold those files open (tests/support/model_holder.py).
// Tests signal, reap and measure the processes they start: kill(2) and
// wait4(2) have no safe wrapper in std.
#![allow(unsafe_code)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::*;

const SAFETENSORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/models/tiny.safetensors"
);

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn snapshot_with(home: &Path, config_home: &Path) -> Value {
    let out = run_ok(
        Command::new(bin())
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", config_home)
            .env("XDG_STATE_HOME", home.join("state"))
            .args(["--passive", "snapshot"]),
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn files(snap: &Value) -> Vec<Value> {
    snap["inventory"]["store_files"]
        .as_array()
        .expect("store_files")
        .clone()
}

fn file_at<'a>(files: &'a [Value], path: &Path) -> &'a Value {
    let p = path.to_string_lossy();
    files
        .iter()
        .find(|f| f["path"] == *p)
        .unwrap_or_else(|| panic!("{p} not listed: {files:#?}"))
}

fn findings_with<'a>(snap: &'a Value, rule: &str) -> Vec<&'a Value> {
    snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn root_entry<'a>(snap: &'a Value, path: &Path) -> &'a Value {
    let p = path.to_string_lossy();
    snap["inventory"]["model_roots"]
        .as_array()
        .expect("model_roots")
        .iter()
        .find(|r| r["path"] == *p)
        .unwrap_or_else(|| {
            panic!(
                "root {p} not recorded: {:#}",
                snap["inventory"]["model_roots"]
            )
        })
}

/// LM Studio (default dir and its settings' downloads folder), llama.cpp's cache
/// and a configured root: files found by content, each root with its reason, a
/// symlink loop walked once; no policy file means one informational finding only.
#[test]
fn home_model_dirs_are_found_by_content_and_say_why() {
    let gguf = tiny_gguf();
    let home = tempfile::tempdir().expect("tempdir");
    let h = home.path();
    let lm = h.join(".lmstudio/models/lmstudio-community/Tiny-GGUF");
    put(&lm.join("tiny-Q8_0.gguf"), &gguf);
    // Content decides: a GGUF under another name is listed, a text file named .gguf is not.
    put(&lm.join("weights.bin"), &gguf);
    write(
        &lm.join("README.gguf"),
        b"not a model, whatever its name says\n",
    );
    let downloads = h.join("elsewhere");
    put(&downloads.join("bartowski/Other-GGUF/other.gguf"), &gguf);
    write(
        &h.join(".lmstudio/settings.json"),
        format!(r#"{{"downloadsFolder": "{}"}}"#, downloads.display()).as_bytes(),
    );
    let llama = h.join(".cache/llama.cpp");
    put(&llama.join("ggml-org_tiny_tiny.gguf"), &gguf);
    std::os::unix::fs::symlink("..", llama.join("loop")).expect("symlink loop");
    let srv = h.join("srv-models");
    put(&srv.join("a/b/tiny.safetensors"), Path::new(SAFETENSORS));
    let config_home = h.join("config");
    write(
        &config_home.join("aiposture/config.toml"),
        format!("[models]\nroots = [\"{}\"]\n", srv.display()).as_bytes(),
    );

    let snap = snapshot_with(h, &config_home);
    let fs = files(&snap);
    let f = file_at(&fs, &lm.join("tiny-Q8_0.gguf"));
    assert_eq!(f["store"], "lm_studio");
    assert_eq!(f["format"]["kind"], "gguf");
    assert_eq!(f["integrity"]["state"], "no_digest");
    assert_eq!(
        f["reference"],
        "lmstudio-community/Tiny-GGUF/tiny-Q8_0.gguf"
    );
    assert_eq!(f["provenance"]["state"], "known");
    assert_eq!(f["provenance"]["publisher"], "lmstudio-community");
    assert_eq!(f["provenance"]["repo"], "lmstudio-community/Tiny-GGUF");
    assert_eq!(f["decision"]["state"], "no_policy");
    assert_eq!(
        file_at(&fs, &lm.join("weights.bin"))["format"]["kind"],
        "gguf"
    );
    assert!(
        !fs.iter()
            .any(|f| f["path"] == *lm.join("README.gguf").to_string_lossy()),
        "a text file named .gguf is not a model"
    );
    assert_eq!(
        file_at(&fs, &downloads.join("bartowski/Other-GGUF/other.gguf"))["store"],
        "lm_studio"
    );
    let ll = file_at(&fs, &llama.join("ggml-org_tiny_tiny.gguf"));
    assert_eq!(ll["store"], "llama_cpp");
    // The header's own claim, with its source.
    assert_eq!(ll["provenance"]["publisher"], "aiposture tests");
    assert!(
        ll["provenance"]["facts"][0]["source"]
            .as_str()
            .is_some_and(|s| s.contains("general.organization")),
        "{ll:#}"
    );
    let in_loop = fs
        .iter()
        .filter(|f| {
            f["path"]
                .as_str()
                .is_some_and(|p| p.starts_with(&*llama.to_string_lossy()))
        })
        .count();
    assert_eq!(in_loop, 1, "the symlink loop is walked once");
    let st = file_at(&fs, &srv.join("a/b/tiny.safetensors"));
    assert_eq!(st["store"], "configured");
    assert_eq!(st["format"]["kind"], "safetensors");
    assert_eq!(st["provenance"]["state"], "unknown");
    // Root owner, mode 0700 tempdir, root-owned /tmp (sticky): nothing to flag.
    let chain: Vec<&str> = st["access"]
        .as_array()
        .expect("access")
        .iter()
        .filter_map(|a| a["path"].as_str())
        .collect();
    assert_eq!(
        chain.first().copied(),
        Some(&*srv.join("a/b/tiny.safetensors").to_string_lossy())
    );
    assert_eq!(
        chain.last().copied(),
        Some(&*srv.to_string_lossy()),
        "up to the root"
    );

    assert_eq!(
        root_entry(&snap, &h.join(".lmstudio/models"))["why"],
        "home of the user running aiposture"
    );
    assert_eq!(
        root_entry(&snap, &downloads)["why"],
        format!(
            "downloadsFolder in {}",
            h.join(".lmstudio/settings.json").display()
        )
    );
    assert_eq!(
        root_entry(&snap, &srv)["why"],
        "listed in [models] roots of the config"
    );
    assert_eq!(root_entry(&snap, &srv)["files"], 1);
    assert_eq!(
        root_entry(&snap, &h.join(".cache/lm-studio/models"))["state"],
        "absent"
    );

    // No policy file: said once, nothing flagged per model.
    let absent = findings_with(&snap, "policy.absent");
    assert_eq!(absent.len(), 1, "{absent:#?}");
    assert_eq!(absent[0]["severity"], "info");
    assert_eq!(
        support::source_text(&absent[0]["evidence"][0]["source"]),
        *config_home.join("aiposture/policy.toml").to_string_lossy()
    );
    assert!(findings_with(&snap, "policy.unapproved-model").is_empty());
}

/// A directory the user running aiposture cannot read is a blind spot naming
/// the path and the reason; what is readable is still listed.
#[test]
fn unreadable_model_dir_is_a_blind_spot() {
    let home = tempfile::tempdir().expect("tempdir");
    let h = home.path();
    chmod(h, 0o755);
    let models = h.join(".lmstudio/models");
    put(&models.join("open/M-GGUF/m.gguf"), &tiny_gguf());
    put(&models.join("locked/M-GGUF/m.gguf"), &tiny_gguf());
    for d in [
        h.join(".lmstudio"),
        models.clone(),
        models.join("open"),
        models.join("open/M-GGUF"),
    ] {
        chmod(&d, 0o755);
    }
    chmod(&models.join("open/M-GGUF/m.gguf"), 0o644);
    chmod(&models.join("locked"), 0o700);
    let out = run_ok(
        Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
            ])
            .env("HOME", h)
            .env("XDG_CONFIG_HOME", h.join("config"))
            .env("XDG_STATE_HOME", "/nonexistent")
            .arg(bin_for_others())
            .args(["--passive", "snapshot"]),
    );
    let snap: Value = serde_json::from_slice(&out.stdout).expect("json");
    let fs = files(&snap);
    assert_eq!(
        file_at(&fs, &models.join("open/M-GGUF/m.gguf"))["store"],
        "lm_studio"
    );
    let locked = models.join("locked");
    let b = snap["inventory"]["blind_spots"]
        .as_array()
        .expect("blind spots")
        .iter()
        .find(|b| support::source_text(&b["path"]) == *locked.to_string_lossy())
        .unwrap_or_else(|| panic!("no blind spot: {:#}", snap["inventory"]["blind_spots"]));
    assert!(
        b["what"]
            .as_str()
            .is_some_and(|w| w.contains("LM Studio models")),
        "{b:#}"
    );
    assert!(
        b["reason"]
            .as_str()
            .is_some_and(|r| r.contains("ermission denied")),
        "{b:#}"
    );
    assert!(b["consequence"].as_str().is_some_and(|c| !c.is_empty()));
}

/// A stand-in whose process group is killed on drop.
struct Holder(std::process::Child);

impl Drop for Holder {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the process group this test created.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

/// Start the holder stand-in as `python <script> <args>` in `cwd`, holding `hold`.
fn start_holder(
    script: &Path,
    cwd: &Path,
    args: &[&str],
    hold: &[PathBuf],
    envs: &[(&str, &Path)],
) -> Holder {
    std::fs::create_dir_all(script.parent().expect("parent")).expect("mkdir");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/model_holder.py"),
        script,
    )
    .expect("copy holder");
    let ready = temp_path("holder-ready");
    let joined = std::env::join_paths(hold).expect("join");
    let child = Command::new(python())
        .arg(script)
        .args(args)
        .current_dir(cwd)
        .env("HOLD_FILES", joined)
        .env("READY_FILE", &ready)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn holder");
    let h = Holder(child);
    wait_until(
        "the holder to open its files",
        Duration::from_secs(20),
        || ready.exists(),
    );
    let _ = std::fs::remove_file(&ready);
    h
}

fn server_of(snap: &Value, pid: u32) -> &Value {
    servers_with_pid(snap, pid)
        .first()
        .copied()
        .unwrap_or_else(|| {
            panic!(
                "pid {pid} not recognised: {:#}",
                snap["inventory"]["servers"]
            )
        })
}

/// ComfyUI's models/ next to main.py and under --base-directory, and
/// text-generation-webui's --model-dir relative to its cwd, are searched; a
/// world-writable directory above a held model and one owned by another user
/// are findings with exact commands.
#[test]
fn comfyui_and_webui_dirs_and_who_can_swap_their_weights() {
    let gguf = tiny_gguf();
    let tmp = tempfile::tempdir().expect("tempdir");
    let t = tmp.path();
    let comfy = t.join("ComfyUI");
    let ckpt = comfy.join("models/checkpoints");
    put(&ckpt.join("tiny.gguf"), &gguf);
    let base = t.join("comfy-base");
    put(
        &base.join("models/loras/l.safetensors"),
        Path::new(SAFETENSORS),
    );
    // llama.cpp's cache named by the server's environment.
    let llama_cache = t.join("llama-cache");
    put(&llama_cache.join("org_repo_m.gguf"), &gguf);
    // Anyone can replace what is in checkpoints/; another user owns ComfyUI/.
    chmod(&ckpt, 0o777);
    std::os::unix::fs::chown(&comfy, Some(65534), Some(65534)).expect("chown");
    let c = start_holder(
        &comfy.join("main.py"),
        t,
        &[
            "--base-directory",
            &base.to_string_lossy(),
            "--listen",
            "127.0.0.1",
        ],
        &[ckpt.join("tiny.gguf")],
        &[("LLAMA_CACHE", &llama_cache)],
    );
    let webui = t.join("text-generation-webui");
    let cwd = t.join("webui-cwd");
    put(&cwd.join("rel-models/tiny.gguf"), &gguf);
    let w = start_holder(
        &webui.join("server.py"),
        &cwd,
        &["--model-dir", "rel-models", "--listen"],
        &[],
        &[],
    );

    let home = t.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let snap = snapshot_with(&home, &home.join("config"));
    let cpid = c.0.id();
    assert_eq!(server_of(&snap, cpid)["product_id"], "comfyui");
    assert_eq!(
        server_of(&snap, w.0.id())["product_id"],
        "text_generation_webui"
    );
    let fs = files(&snap);
    assert_eq!(file_at(&fs, &ckpt.join("tiny.gguf"))["store"], "comfy_ui");
    assert_eq!(
        file_at(&fs, &base.join("models/loras/l.safetensors"))["store"],
        "comfy_ui"
    );
    assert_eq!(
        root_entry(&snap, &base.join("models"))["why"],
        format!("--base-directory of pid {cpid}")
    );
    assert_eq!(
        root_entry(&snap, &comfy.join("models"))["why"],
        format!("next to main.py of pid {cpid}")
    );
    assert_eq!(
        file_at(&fs, &cwd.join("rel-models/tiny.gguf"))["store"],
        "text_generation_webui"
    );
    assert_eq!(
        root_entry(&snap, &cwd.join("rel-models"))["why"],
        format!("--model-dir of pid {}", w.0.id())
    );

    assert_eq!(
        file_at(&fs, &llama_cache.join("org_repo_m.gguf"))["store"],
        "llama_cpp"
    );
    assert_eq!(
        root_entry(&snap, &llama_cache)["why"],
        format!("LLAMA_CACHE of pid {cpid}")
    );

    // The held model's chain reaches / and the findings name the server.
    let loaded = &server_of(&snap, cpid)["models"][0];
    assert_eq!(loaded["path"], *ckpt.join("tiny.gguf").to_string_lossy());
    assert_eq!(
        loaded["access"]
            .as_array()
            .and_then(|a| a.last())
            .map(|a| a["path"].clone()),
        Some(Value::from("/"))
    );
    let writable: Vec<&Value> = findings_with(&snap, "weights.writable-by-others")
        .into_iter()
        .filter(|f| f["subject"]["path"] == *ckpt.to_string_lossy())
        .collect();
    assert_eq!(writable.len(), 1, "one finding per cause: {writable:#?}");
    assert_eq!(writable[0]["subject"]["pid"], cpid);
    assert_eq!(writable[0]["severity"], "high");
    assert_eq!(
        writable[0]["remediation"],
        format!("chmod o-w '{}'", ckpt.display())
    );
    assert!(
        writable[0]["evidence"][0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("mode 0777") && d.contains("uid 0")),
        "{:#}",
        writable[0]
    );
    let foreign: Vec<&Value> = findings_with(&snap, "weights.owned-by-another-user")
        .into_iter()
        .filter(|f| f["subject"]["path"] == *comfy.to_string_lossy())
        .collect();
    assert_eq!(foreign.len(), 1, "{foreign:#?}");
    assert_eq!(foreign[0]["subject"]["pid"], cpid);
    assert!(
        foreign[0]["remediation"]
            .as_str()
            .is_some_and(|r| r.starts_with(&format!("chown root:root '{}'", comfy.display()))),
        "{:#}",
        foreign[0]
    );
    // The unheld file below the same world-writable directory is not a second finding.
    assert_eq!(
        findings_with(&snap, "weights.writable-by-others")
            .iter()
            .filter(|f| f["subject"]["path"] == *ckpt.to_string_lossy())
            .count(),
        1
    );
    drop(c);
    drop(w);
}

/// The walk stops at its depth bound, follows a symlinked directory once (a loop
/// back to the root is cut), and lists a linked model file where it is linked.
#[test]
fn walk_is_bounded_and_cuts_symlink_loops() {
    use aiposture::collect::models::dirs::walk;
    use aiposture::model::StoreKind;
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    let mut deep = root.clone();
    for i in 0..10 {
        deep = deep.join(format!("l{i}"));
    }
    put(&root.join("l0/l1/shallow.gguf"), &tiny_gguf());
    put(&deep.join("too-deep.gguf"), &tiny_gguf());
    std::os::unix::fs::symlink(&root, root.join("l0/back-to-root")).expect("loop");
    let outside = tmp.path().join("outside");
    put(&outside.join("linked.gguf"), &tiny_gguf());
    std::os::unix::fs::symlink(&outside, root.join("link-out")).expect("link");
    let mut sniff = |p: &Path, _: &std::fs::Metadata| aiposture::formats::magic::sniff_file(p);
    let w = walk(StoreKind::Configured, &root, "test", &mut sniff);
    let refs: Vec<&str> = w.files.iter().map(|f| f.reference.as_str()).collect();
    assert_eq!(
        refs,
        vec!["l0/l1/shallow.gguf", "link-out/linked.gguf"],
        "{refs:?}"
    );
    assert!(!w.truncated);
    assert!(w.blind.is_empty(), "{:?}", w.blind);
}

/// Files no server holds are judged without a serving user: a group-writable
/// directory whose group is not listed, and an owner uid with no account.
#[test]
fn unheld_files_are_judged_without_a_serving_user() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let h = tmp.path();
    let srv = h.join("srv");
    let dir = srv.join("orphaned");
    put(&dir.join("m.gguf"), &tiny_gguf());
    // uid/gid 54321: no account, no group entry (a removed user, a container's user).
    std::os::unix::fs::chown(&dir, Some(54321), Some(54321)).expect("chown");
    chmod(&dir, 0o775);
    let config_home = h.join("config");
    write(
        &config_home.join("aiposture/config.toml"),
        format!("[models]\nroots = [\"{}\"]\n", srv.display()).as_bytes(),
    );
    let snap = snapshot_with(h, &config_home);
    let d = dir.to_string_lossy();
    let on_dir = |rule: &str| -> Vec<Value> {
        findings_with(&snap, rule)
            .into_iter()
            .filter(|f| f["subject"]["path"] == *d)
            .cloned()
            .collect()
    };
    let w = on_dir("weights.writable-by-others");
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0]["subject"]["pid"], 0);
    assert_eq!(w[0]["severity"], "low");
    assert_eq!(w[0]["remediation"], format!("chmod g-w '{d}'"));
    assert!(
        w[0]["evidence"]
            .to_string()
            .contains("judged without a serving user"),
        "{:#}",
        w[0]
    );
    let o = on_dir("weights.owned-by-another-user");
    assert_eq!(o.len(), 1, "{o:#?}");
    assert!(
        o[0]["title"]
            .as_str()
            .is_some_and(|t| t.contains("uid 54321, which has no account"))
    );
    // The root-owned file itself and the root-owned root are not flagged.
    let file = dir.join("m.gguf");
    assert!(
        findings_with(&snap, "weights.writable-by-others")
            .iter()
            .chain(findings_with(&snap, "weights.owned-by-another-user").iter())
            .all(|f| f["subject"]["path"] != *file.to_string_lossy()
                && f["subject"]["path"] != *srv.to_string_lossy())
    );
}
