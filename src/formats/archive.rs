//! Containers (zip, tar) read the way the tools that load from them read
//! them: every member is sniffed by content, whatever its name, so a pickle
//! called `weights.bin` or `x` is walked like `data.pkl`; archives inside
//! archives are opened to a bound. What an extracting tool or a loader could
//! be fooled by is recorded as a fact: names that escape the extraction
//! directory (zip-slip), repeated names (two readers, two contents), members
//! flagged encrypted (read as the loaders that ignore the flag read them),
//! bomb-sized members, and whatever could not be read (never a pass).
//!
//! PyTorch archives are read as `torch.load` reads them: `<root>/data.pkl`
//! must parse, the raw storages under `<root>/data/` are bytes, never
//! opcodes, and an archive with `constants.pkl` or `code/` is TorchScript,
//! whose pickles name TorchScript classes rather than Python imports.

use std::collections::{BTreeMap, HashSet};
use std::io::{Cursor, Read, Seek};

use super::magic::{SEVEN_Z_MAGIC, is_tar, sniff, text_pickle};
use super::pickle::{PickleContext, StreamOptions, scan_reader};
use crate::knowledge::pickle_rules::PickleRules;
use crate::model::ModelFormat;
use crate::model::archive::{ArchiveKind, ArchiveReport, MemberNote};
use crate::model::pickle::{PickleReport, clean_text};

/// Bounds of one archive analysis.
#[derive(Debug, Clone, Copy)]
pub struct ArchiveLimits {
    /// Members examined over all nesting levels.
    pub max_members: u64,
    /// Archives inside archives opened, counting the outer one as 1.
    pub max_depth: u32,
    /// A nested archive is read into memory up to this size.
    pub nested_cap: u64,
    /// Decompressed bytes of one pickle member read at most.
    pub pickle_cap: u64,
    /// Decompressed bytes read over all members.
    pub total_cap: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_members: 10_000,
            max_depth: 3,
            nested_cap: 32 << 20,
            pickle_cap: super::pickle::MAX_FILE,
            total_cap: 512 << 20,
        }
    }
}

/// A member is a bomb when it inflates at least this many times to at least
/// this size (deflate tops out near 1032×) …
const BOMB_RATIO: u64 = 1000;
const BOMB_SIZE: u64 = 64 << 20;
/// … or a hundred times to more than a pickle member is read to.
const BIG_RATIO: u64 = 100;
const BIG_SIZE: u64 = 256 << 20;

fn bomb(size: u64, packed: u64) -> bool {
    let ratio = size / packed.max(1);
    (size >= BOMB_SIZE && ratio >= BOMB_RATIO) || (size >= BIG_SIZE && ratio >= BIG_RATIO)
}

/// Which members the archive's own loader reads, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A torch.save / TorchScript zip.
    Torch,
    /// Any other container: every member is sniffed.
    Generic,
    /// A container whose members another reader judges (.npz, .keras): only
    /// names, encryption, sizes and readability are recorded here.
    Facts,
}

/// What an archive analysis found.
#[derive(Debug, Clone)]
pub struct ArchiveScan {
    pub report: ArchiveReport,
    /// Every pickle found in the members, merged; `None` when there was none.
    pub pickle: Option<PickleReport>,
}

/// Analyses a zip from `reader`.
pub fn analyse_zip<R: Read + Seek>(
    reader: R,
    rules: &PickleRules,
    role: Role,
    limits: ArchiveLimits,
) -> Result<ArchiveScan, String> {
    let mut w = Walk::new(rules, limits, ArchiveKind::Zip);
    w.zip(reader, "", 1, Some(role))?;
    Ok(w.finish())
}

/// Analyses a tar from `reader`.
pub fn analyse_tar(
    reader: impl Read,
    rules: &PickleRules,
    limits: ArchiveLimits,
) -> Result<ArchiveScan, String> {
    let mut w = Walk::new(rules, limits, ArchiveKind::Tar);
    w.tar(reader, "", 1)?;
    Ok(w.finish())
}

/// Analyses a 7z archive from `reader`. Solid blocks are decoded in order;
/// encrypted headers and methods without a decoder here are not checked.
pub fn analyse_7z<R: Read + Seek>(
    reader: R,
    rules: &PickleRules,
    limits: ArchiveLimits,
) -> Result<ArchiveScan, String> {
    let mut w = Walk::new(rules, limits, ArchiveKind::SevenZ);
    w.seven_z(reader, "", 1)?;
    Ok(w.finish())
}

/// Decoder memory (dictionaries, models) a 7z may ask for, in KiB.
const SEVEN_Z_MEMORY_KIB: usize = 64 * 1024;

/// [`analyse_zip`], [`analyse_tar`] or [`analyse_7z`] on the file at `path`, default limits.
pub fn analyse_file(
    path: &std::path::Path,
    kind: ArchiveKind,
    role: Role,
    rules: &PickleRules,
) -> Result<ArchiveScan, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let f = std::io::BufReader::new(f);
    match kind {
        ArchiveKind::Zip => analyse_zip(f, rules, role, ArchiveLimits::default()),
        ArchiveKind::Tar => analyse_tar(f, rules, ArchiveLimits::default()),
        ArchiveKind::SevenZ => analyse_7z(f, rules, ArchiveLimits::default()),
    }
}

/// Absolute paths, drive letters and `..` components: names an extracting
/// tool would write outside its directory.
pub fn escapes(name: &[u8]) -> bool {
    let name = String::from_utf8_lossy(name).replace('\\', "/");
    name.starts_with('/')
        || name.as_bytes().get(1) == Some(&b':')
        || name.split('/').any(|c| c == "..")
}

struct Walk<'r> {
    rules: &'r PickleRules,
    limits: ArchiveLimits,
    report: ArchiveReport,
    pickle: Option<PickleReport>,
    /// A pickle member could not be read to its end: the merged report is
    /// incomplete, with the first reason.
    broken: Option<String>,
    budget: u64,
    notes: Vec<String>,
}

/// How the loader treats one member's content.
#[derive(Clone, Copy)]
struct Reading {
    /// The loader unpickles it (torch's data.pkl): a walk that fails is an
    /// unchecked file, not "not a pickle".
    must_parse: bool,
    context: PickleContext,
}

const GENERIC: Reading = Reading {
    must_parse: false,
    context: PickleContext::Python,
};

impl<'r> Walk<'r> {
    fn new(rules: &'r PickleRules, limits: ArchiveLimits, kind: ArchiveKind) -> Self {
        Walk {
            rules,
            limits,
            report: ArchiveReport::new(kind),
            pickle: None,
            broken: None,
            budget: limits.total_cap,
            notes: Vec::new(),
        }
    }

    fn finish(mut self) -> ArchiveScan {
        if let Some(p) = self.pickle.as_mut() {
            if p.incomplete.is_none() {
                p.incomplete = self.broken.take();
            }
            p.notes.extend(self.notes);
        }
        ArchiveScan {
            report: self.report,
            pickle: self.pickle,
        }
    }

    fn unchecked(&mut self, member: &str, detail: String) {
        if self.report.unchecked.len() < 64 {
            self.report.unchecked.push(MemberNote {
                member: member.to_string(),
                detail,
            });
        }
    }

    fn note(&mut self, n: String) {
        if self.notes.len() < 64 {
            self.notes.push(n);
        }
    }

    /// Counts one member against the bound; false once it is exceeded.
    fn count_member(&mut self, prefix: &str) -> bool {
        self.report.members += 1;
        if self.report.members > self.limits.max_members {
            if self.report.members == self.limits.max_members + 1 {
                self.unchecked(
                    prefix,
                    format!(
                        "more than {} members; the rest were not read",
                        self.limits.max_members
                    ),
                );
            }
            return false;
        }
        true
    }

    fn zip<R: Read + Seek>(
        &mut self,
        mut reader: R,
        prefix: &str,
        depth: u32,
        role: Option<Role>,
    ) -> Result<(), String> {
        let mut z =
            zip::ZipArchive::new(&mut reader).map_err(|e| format!("not a readable zip: {e}"))?;
        let names: Vec<String> = (0..z.len())
            .map(|i| {
                z.name_for_index(i)
                    .and_then(|r| r.ok())
                    .map(|c| c.into_owned())
                    .unwrap_or_default()
            })
            .collect();
        let role =
            role.unwrap_or_else(|| torch_root(&names).map_or(Role::Generic, |_| Role::Torch));
        let root = torch_root(&names);
        let torchscript = root.as_deref().is_some_and(|r| {
            names
                .iter()
                .any(|n| *n == format!("{r}/constants.pkl") || n.starts_with(&format!("{r}/code/")))
        });
        for i in 0..z.len() {
            if !self.count_member(prefix) {
                break;
            }
            let (name, raw_name, size, packed, encrypted, is_dir, method) = match z.by_index_raw(i)
            {
                Ok(f) => (
                    clean_text(&String::from_utf8_lossy(f.name_raw())),
                    f.name_raw().to_vec(),
                    f.size(),
                    f.compressed_size(),
                    f.encrypted(),
                    f.is_dir(),
                    f.compression(),
                ),
                Err(e) => {
                    self.unchecked(&format!("{prefix}#{i}"), format!("cannot be read: {e}"));
                    continue;
                }
            };
            let full = format!("{prefix}{name}");
            let readable = self.member_facts(&full, &raw_name, size, packed);
            if is_dir || !readable {
                continue;
            }
            if encrypted {
                self.report.encrypted.push(full.clone());
            }
            // torch.load reads storages as raw bytes, never as opcodes.
            let storage = role == Role::Torch
                && root
                    .as_deref()
                    .is_some_and(|r| name.starts_with(&format!("{r}/data/")));
            if storage || role == Role::Facts {
                continue;
            }
            // torch.load unpickles data.pkl (and a TorchScript archive's
            // constants.pkl); every pickle in a TorchScript archive (its
            // code/*.debug_pkl too) is read by TorchScript's unpickler.
            let main = root.as_deref().is_some_and(|r| {
                role == Role::Torch
                    && (name == format!("{r}/data.pkl") || name == format!("{r}/constants.pkl"))
            });
            let reading = Reading {
                must_parse: main,
                context: if torchscript {
                    PickleContext::TorchScript
                } else {
                    PickleContext::Python
                },
            };
            if encrypted {
                // PyTorch's zip reader (miniz) and others ignore the flag: read
                // the member as they do, stored or deflated.
                let raw = match z.by_index_raw(i) {
                    Ok(f) => f,
                    Err(e) => {
                        self.unchecked(&full, format!("encrypted member cannot be read: {e}"));
                        continue;
                    }
                };
                let content: Box<dyn Read + '_> = match method {
                    zip::CompressionMethod::Stored => Box::new(raw),
                    zip::CompressionMethod::Deflated => {
                        Box::new(flate2::read::DeflateDecoder::new(raw))
                    }
                    other => {
                        self.unchecked(
                            &full,
                            format!("flagged encrypted and compressed with {other}: its content cannot be read"),
                        );
                        continue;
                    }
                };
                self.content(content, &full, size, depth, reading, true);
                continue;
            }
            match z.by_index(i) {
                Ok(f) => self.content(f, &full, size, depth, reading, false),
                Err(e) => self.unchecked(&full, format!("cannot be read: {e}")),
            }
        }
        if z.has_duplicate_names() {
            drop(z);
            self.duplicate_zip_members(&mut reader, prefix, depth)?;
        }
        if role == Role::Torch && depth == 1 && self.pickle.is_none() {
            self.unchecked(
                prefix,
                "no pickle could be read from the archive's data.pkl".into(),
            );
        }
        Ok(())
    }

    /// The zip reader keeps one entry per name; the local headers hold every
    /// one. Each repeated name's contents are sniffed from the local headers.
    fn duplicate_zip_members<R: Read + Seek>(
        &mut self,
        reader: &mut R,
        prefix: &str,
        depth: u32,
    ) -> Result<(), String> {
        let mut counts: BTreeMap<Vec<u8>, u32> = BTreeMap::new();
        let mut stream_ok = true;
        for pass in 0..2 {
            reader
                .seek(std::io::SeekFrom::Start(0))
                .map_err(|e| e.to_string())?;
            let mut seen = 0u64;
            loop {
                seen += 1;
                if seen > self.limits.max_members {
                    break;
                }
                let entry = match zip::read::read_zipfile_from_stream(reader) {
                    Ok(Some(e)) => e,
                    Ok(None) => break,
                    Err(e) => {
                        stream_ok = false;
                        if pass == 0 {
                            self.unchecked(
                                prefix,
                                format!("repeated member names, and the local headers cannot be walked to read each copy: {e}"),
                            );
                        }
                        break;
                    }
                };
                let raw = entry.name_raw().to_vec();
                if pass == 0 {
                    *counts.entry(raw).or_default() += 1;
                } else if counts.get(&raw).is_some_and(|n| *n > 1) && !entry.is_dir() {
                    let name = format!("{prefix}{}", clean_text(&String::from_utf8_lossy(&raw)));
                    let size = entry.size();
                    self.content(entry, &name, size, depth, GENERIC, false);
                }
            }
            if !stream_ok {
                break;
            }
        }
        for (name, n) in counts.into_iter().filter(|(_, n)| *n > 1) {
            self.report.duplicates.push(format!(
                "{prefix}{} ×{n}",
                clean_text(&String::from_utf8_lossy(&name))
            ));
        }
        if self.report.duplicates.is_empty() {
            self.report
                .duplicates
                .push(format!("{prefix}(the central directory repeats names)"));
        }
        Ok(())
    }

    fn tar(&mut self, reader: impl Read, prefix: &str, depth: u32) -> Result<(), String> {
        let mut t = tar::Archive::new(reader);
        let entries = t
            .entries()
            .map_err(|e| format!("not a readable tar: {e}"))?;
        let mut names: HashSet<Vec<u8>> = HashSet::new();
        let mut repeated: BTreeMap<String, u32> = BTreeMap::new();
        for entry in entries {
            if !self.count_member(prefix) {
                break;
            }
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    self.unchecked(prefix, format!("the tar stops being readable: {e}"));
                    break;
                }
            };
            let raw = entry.path_bytes().into_owned();
            let name = clean_text(&String::from_utf8_lossy(&raw));
            let full = format!("{prefix}{name}");
            let size = entry.header().size().unwrap_or(0);
            self.member_facts(&full, &raw, size, size);
            if !names.insert(raw) {
                *repeated.entry(full.clone()).or_insert(1) += 1;
            }
            let kind = entry.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                if let Some(target) = entry.link_name_bytes().map(|t| t.into_owned())
                    && escapes(&target)
                {
                    self.report.escaping.push(MemberNote {
                        member: full,
                        detail: format!(
                            "links to {:?}, outside the extraction directory",
                            clean_text(&String::from_utf8_lossy(&target))
                        ),
                    });
                }
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            self.content(entry, &full, size, depth, GENERIC, false);
        }
        for (name, n) in repeated {
            self.report.duplicates.push(format!("{name} ×{n}"));
        }
        Ok(())
    }

    fn seven_z<R: Read + Seek>(
        &mut self,
        reader: R,
        prefix: &str,
        depth: u32,
    ) -> Result<(), String> {
        let mut z = sevenz_rust2::ArchiveReader::new_with_memory_limit(
            reader,
            sevenz_rust2::Password::empty(),
            SEVEN_Z_MEMORY_KIB,
        )
        .map_err(|e| format!("not a readable 7z archive: {e}"))?;
        let mut names: HashSet<String> = HashSet::new();
        let mut repeated: BTreeMap<String, u32> = BTreeMap::new();
        let walked = z.for_each_entries_with_decision(|entry, content| {
            use sevenz_rust2::EntryDecision;
            if !self.count_member(prefix) {
                return Ok(EntryDecision::Stop);
            }
            let raw = entry.name().as_bytes().to_vec();
            let full = format!("{prefix}{}", clean_text(entry.name()));
            if !names.insert(entry.name().to_string()) {
                *repeated.entry(full.clone()).or_insert(1) += 1;
            }
            let size = entry.size();
            let readable = self.member_facts(&full, &raw, size, entry.compressed_size);
            if entry.is_directory() || !entry.has_stream || !readable {
                return Ok(EntryDecision::Continue);
            }
            if self.budget == 0 {
                self.unchecked(
                    &full,
                    "the decompression budget ran out before this member".into(),
                );
                return Ok(EntryDecision::Stop);
            }
            self.content(content, &full, size, depth, GENERIC, false);
            Ok(EntryDecision::Continue)
        });
        if let Err(e) = walked {
            self.unchecked(prefix, format!("the 7z archive stops being readable: {e}"));
        }
        for (name, n) in repeated {
            self.report.duplicates.push(format!("{name} ×{n}"));
        }
        Ok(())
    }

    /// Facts every member gets from its header alone; false for a bomb,
    /// whose content is then left unread.
    fn member_facts(&mut self, full: &str, raw_name: &[u8], size: u64, packed: u64) -> bool {
        if escapes(raw_name) {
            self.report.escaping.push(MemberNote {
                member: full.to_string(),
                detail:
                    "an absolute name or `..`: extracting it writes outside the target directory"
                        .into(),
            });
        }
        if bomb(size, packed) {
            self.report.bombs.push(MemberNote {
                member: full.to_string(),
                detail: format!(
                    "{packed} bytes inflate to {size} ({}×)",
                    size / packed.max(1)
                ),
            });
            self.unchecked(full, "inflates like a decompression bomb: not read".into());
            return false;
        }
        true
    }

    /// Sniffs one member's content and reads it as what it is.
    fn content(
        &mut self,
        mut r: impl Read,
        name: &str,
        size: u64,
        depth: u32,
        reading: Reading,
        encrypted: bool,
    ) {
        let mut head = Vec::new();
        let want = (super::magic::HEADER_LEN as u64).min(self.budget);
        if let Err(e) = (&mut r).take(want).read_to_end(&mut head) {
            let why = if encrypted {
                format!("flagged encrypted, and unreadable as plain data: {e}")
            } else {
                format!("cannot be read to its end: {e}")
            };
            self.unchecked(name, why);
            if head.is_empty() {
                return;
            }
            // What was read before the error (a checksum that fails at the
            // end) is what a loader that does not check it runs: judged too.
            self.budget -= head.len() as u64;
            self.report.sniffed += 1;
            let format = sniff(&head);
            if matches!(format, Some(ModelFormat::Pickle { .. })) || text_pickle(&head).is_some() {
                self.pickle_member(Cursor::new(head), name, reading);
            }
            return;
        }
        self.budget -= head.len() as u64;
        self.report.sniffed += 1;
        let format = sniff(&head);
        let chained = Cursor::new(head.clone()).chain(r);
        if is_tar(&head) {
            self.nested(chained, name, size, depth, ArchiveKind::Tar);
            return;
        }
        if head.starts_with(SEVEN_Z_MAGIC) {
            self.nested(chained, name, size, depth, ArchiveKind::SevenZ);
            return;
        }
        match format {
            Some(ModelFormat::PytorchZip | ModelFormat::Npz | ModelFormat::Keras) => {
                self.nested(chained, name, size, depth, ArchiveKind::Zip)
            }
            None if head.starts_with(b"PK\x03\x04") => {
                self.nested(chained, name, size, depth, ArchiveKind::Zip)
            }
            Some(ModelFormat::Pickle { .. }) => self.pickle_member(chained, name, reading),
            None if reading.must_parse || text_pickle(&head).is_some() => {
                self.pickle_member(chained, name, reading)
            }
            Some(ModelFormat::Joblib { .. }) => {
                let cap = self.limits.pickle_cap.min(self.budget);
                let rep = super::joblib::analyse_reader(chained, self.rules, cap);
                self.budget = self.budget.saturating_sub(rep.opcodes.min(cap));
                self.merge(name, rep, true);
            }
            Some(ModelFormat::PytorchLegacy) => {
                let cap = self.limits.pickle_cap.min(self.budget);
                let rep = super::torch_legacy::analyse_reader(chained, self.rules, cap);
                self.merge(name, rep, true);
            }
            Some(ModelFormat::Numpy) => self.npy_member(chained, name),
            Some(other) => self.note(format!(
                "member {name:?} is {}; inside an archive it is listed, not read",
                other.label()
            )),
            None if encrypted => self.unchecked(
                name,
                "flagged encrypted: its bytes are no known format, so it is likely really encrypted and cannot be checked".into(),
            ),
            None => {}
        }
    }

    fn pickle_member(&mut self, r: impl Read, name: &str, reading: Reading) {
        let cap = self.limits.pickle_cap.min(self.budget);
        let opts = StreamOptions {
            context: reading.context,
            ..StreamOptions::default()
        };
        let scan = scan_reader(r, self.rules, &opts, cap);
        self.budget = self.budget.saturating_sub(scan.read);
        let mut rep = scan.scan.report;
        if scan.capped {
            rep.incomplete.get_or_insert_with(|| {
                format!("larger than the {cap} bytes a pickle member is read to")
            });
        }
        if let Some(e) = scan.read_error {
            rep.incomplete
                .get_or_insert_with(|| format!("reading failed after {} bytes: {e}", scan.read));
        }
        // A member that merely starts like a pickle, imports nothing and
        // breaks off is data; the loader of this member would fail on it too.
        let data = !reading.must_parse
            && rep.incomplete.is_some()
            && rep.globals.is_empty()
            && !scan.capped
            && rep.opcodes < 64;
        if data {
            self.note(format!(
                "member {name:?} starts like a pickle but does not parse; read as data"
            ));
            return;
        }
        self.report.pickles.push(name.to_string());
        self.merge(name, rep, true);
    }

    fn npy_member(&mut self, mut r: impl Read, name: &str) {
        let cap = super::npy::PAYLOAD_CAP.min(self.budget);
        let mut all = Vec::new();
        if let Err(e) = (&mut r).take(cap + 1).read_to_end(&mut all) {
            self.unchecked(name, format!("cannot be read: {e}"));
            return;
        }
        self.budget = self.budget.saturating_sub(all.len() as u64);
        match super::npy::scan_npy_bytes(&all, self.rules) {
            Ok(Some(rep)) => {
                self.report.pickles.push(name.to_string());
                self.merge(name, rep, true)
            }
            Ok(None) => {}
            Err(_) if all.len() as u64 > cap => {
                self.unchecked(name, format!("an .npy larger than the {cap} bytes read"))
            }
            Err(e) => self.unchecked(name, e),
        }
    }

    fn nested(&mut self, mut r: impl Read, name: &str, size: u64, depth: u32, kind: ArchiveKind) {
        if depth >= self.limits.max_depth {
            self.unchecked(
                name,
                format!(
                    "a {} archive nested deeper than {} levels; not opened",
                    kind.label(),
                    self.limits.max_depth
                ),
            );
            return;
        }
        let cap = self.limits.nested_cap.min(self.budget);
        if size > cap {
            self.unchecked(
                name,
                format!(
                    "a nested {} archive of {size} bytes, more than the {cap} read",
                    kind.label()
                ),
            );
            return;
        }
        let mut bytes = Vec::new();
        if let Err(e) = (&mut r).take(cap + 1).read_to_end(&mut bytes) {
            self.unchecked(name, format!("cannot be read: {e}"));
            return;
        }
        self.budget = self.budget.saturating_sub(bytes.len() as u64);
        if bytes.len() as u64 > cap {
            self.unchecked(
                name,
                format!(
                    "a nested {} archive larger than the {cap} bytes read",
                    kind.label()
                ),
            );
            return;
        }
        self.report.nested.push(name.to_string());
        let prefix = format!("{name}!");
        let result = match kind {
            ArchiveKind::Zip => self.zip(Cursor::new(bytes), &prefix, depth + 1, None),
            ArchiveKind::Tar => self.tar(Cursor::new(bytes), &prefix, depth + 1),
            ArchiveKind::SevenZ => self.seven_z(Cursor::new(bytes), &prefix, depth + 1),
        };
        if let Err(e) = result {
            self.unchecked(name, e);
        }
    }

    /// Adds a member's pickle report to the merged one.
    fn merge(&mut self, member: &str, r: PickleReport, counts: bool) {
        if counts && let Some(why) = &r.incomplete {
            self.broken
                .get_or_insert_with(|| format!("member {member:?}: {why}"));
        }
        for n in crate::model::pickle::merge_member(&mut self.pickle, member, r) {
            self.note(n);
        }
    }
}

/// The archive name torch.save writes every member under, when the zip has
/// `<root>/data.pkl`.
fn torch_root(names: &[String]) -> Option<String> {
    names.iter().find_map(|n| {
        let root = n.strip_suffix("/data.pkl")?;
        (!root.contains('/')).then(|| root.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pickle::GlobalClass;
    use std::io::Write;

    fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, data) in members {
            w.start_file(*name, opts).expect("member");
            w.write_all(data).expect("write");
        }
        w.finish().expect("finish").into_inner()
    }

    fn classes(bytes: &[u8]) -> Vec<(String, GlobalClass)> {
        let rules = crate::test_support::pickle_rules();
        let scan = analyse_zip(
            Cursor::new(bytes),
            &rules,
            Role::Torch,
            ArchiveLimits::default(),
        )
        .expect("zip");
        scan.pickle
            .expect("pickle")
            .globals
            .iter()
            .map(|g| (format!("{}.{}", g.module, g.name), g.class))
            .collect()
    }

    /// TorchScript's helpers and classes are resolved by the TorchScript
    /// loader, so they are that library's only inside a TorchScript archive;
    /// the same names in a plain torch.save archive import torch.jit.
    #[test]
    fn torchscript_names_count_only_inside_torchscript_archives() {
        let data: &[u8] =
            b"\x80\x02ctorch.jit._pickle\nbuild_intlist\n]\x85Rc__torch__\nNet\n)\x81.";
        let script = zip_of(&[
            ("net/data.pkl", data),
            ("net/constants.pkl", b"\x80\x02).".as_slice()),
            (
                "net/code/__torch__.py",
                b"class Net(Module):\n  pass\n".as_slice(),
            ),
            // Read by TorchScript's unpickler too (real archives carry these).
            ("net/code/__torch__.py.debug_pkl", data),
        ]);
        let got = classes(&script);
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(
            got.iter().all(|(_, c)| *c == GlobalClass::Library),
            "{got:?}"
        );
        let plain = zip_of(&[("net/data.pkl", data), ("net/version", b"3\n".as_slice())]);
        let got = classes(&plain);
        assert_eq!(got[0].1, GlobalClass::Dangerous, "{got:?}");
        assert_eq!(got[1].1, GlobalClass::Unknown, "{got:?}");
    }

    #[test]
    fn a_torch_archive_whose_data_pkl_does_not_parse_is_unchecked() {
        let bad = zip_of(&[
            ("m/data.pkl", b"\x80\x02(".as_slice()),
            ("m/version", b"3\n".as_slice()),
        ]);
        let rules = crate::test_support::pickle_rules();
        let scan = analyse_zip(
            Cursor::new(bad),
            &rules,
            Role::Torch,
            ArchiveLimits::default(),
        )
        .expect("zip");
        let p = scan.pickle.expect("pickle report");
        assert!(p.incomplete.is_some(), "{p:?}");
        assert_eq!(scan.report.pickles, ["m/data.pkl"]);
    }

    #[test]
    fn member_bound_and_names_are_reported() {
        let many: Vec<(String, Vec<u8>)> = (0..20).map(|i| (format!("f{i}"), vec![b'x'])).collect();
        let refs: Vec<(&str, &[u8])> = many
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        let z = zip_of(&refs);
        let rules = crate::test_support::pickle_rules();
        let limits = ArchiveLimits {
            max_members: 5,
            ..ArchiveLimits::default()
        };
        let scan = analyse_zip(Cursor::new(z), &rules, Role::Generic, limits).expect("zip");
        assert_eq!(scan.report.unchecked.len(), 1, "{:?}", scan.report);
        assert!(
            scan.report.unchecked[0]
                .detail
                .contains("more than 5 members")
        );
        assert!(escapes(b"../x") && escapes(b"/etc/x") && escapes(b"c:\\x") && !escapes(b"a/..b"));
    }
}
