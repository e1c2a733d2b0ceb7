//! The layering of ARCHITECTURE.md, checked on the source itself: every path a
//! file names (`use` trees, types, expressions, and `crate::…` inside macro
//! bodies) is resolved to the module it points at, with `super::` and `self::`
//! resolved relative to the file and its inline modules. Module paths, not text:
//! a re-export or a grouped `use crate::{a, b}` cannot hide an arrow.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// Layers from the bottom; a module may name modules of its own layer or below.
/// `error`, `atomic` and `paths` are shared utilities every layer may use.
const LAYERS: &[(&str, u8)] = &[
    ("error", 0),
    ("paths", 0),
    ("atomic", 0),
    ("model", 1),
    ("knowledge", 2),
    ("formats", 3),
    ("collect", 4),
    ("rules", 5),
    ("timeline", 6),
    ("app", 7),
    ("views", 8),
    // The edge: the binary (main.rs, cli.rs) and the configuration it reads.
    ("config", 9),
    ("bin", 10),
];

/// What each top-level module may name besides itself, where the layer order
/// alone is too loose.
const ALLOWED: &[(&str, &[&str])] = &[
    ("model", &["error"]),
    ("knowledge", &["model", "error"]),
    // Readers of model-file bytes: facts only; the asset lists they are given
    // (pickle allow/deny lists) come from knowledge.
    ("formats", &["model", "knowledge", "error"]),
    (
        "collect",
        &["model", "knowledge", "formats", "error", "atomic", "paths"],
    ),
    ("rules", &["model", "knowledge", "error"]),
    ("timeline", &["model", "rules", "error", "atomic", "paths"]),
    // Views render a snapshot: never collect, judge, parse model files or
    // touch the history store again.
    ("views", &["model", "app", "error", "atomic"]),
    ("config", &["model", "error", "paths"]),
];

struct SourceFile {
    rel: String,
    /// Module path of the file (`["collect", "net", "sockets"]`); `["bin", …]`
    /// for the binary's own modules.
    module: Vec<String>,
    ast: syn::File,
    /// Declared by `#[cfg(test)] mod name;`: test code, like an inline
    /// `#[cfg(test)] mod tests { … }`.
    test_only: bool,
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn module_of(rel: &str) -> Vec<String> {
    let no_ext = rel.trim_end_matches(".rs");
    let mut parts: Vec<String> = no_ext.split('/').map(String::from).collect();
    match parts.as_slice() {
        [f] if f == "lib" => return Vec::new(),
        [f] if f == "main" || f == "cli" => return vec!["bin".into(), f.clone()],
        _ => {}
    }
    if parts.last().is_some_and(|l| l == "mod") {
        parts.pop();
    }
    parts
}

fn load() -> Vec<SourceFile> {
    let mut paths = Vec::new();
    rust_files(&src(), &mut paths);
    let mut files = paths
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(src())
                .expect("under src")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&p).expect("read source");
            let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
            SourceFile {
                module: module_of(&rel),
                rel,
                ast,
                test_only: false,
            }
        })
        .collect::<Vec<_>>();
    mark_test_only(&mut files);
    files
}

/// Marks the files declared by a `#[cfg(test)] mod name;` item.
fn mark_test_only(files: &mut [SourceFile]) {
    let declared: BTreeSet<Vec<String>> = files
        .iter()
        .flat_map(|f| {
            f.ast.items.iter().filter_map(|i| match i {
                syn::Item::Mod(m) if m.content.is_none() && is_cfg_test(&m.attrs) => {
                    let mut path = f.module.clone();
                    path.push(m.ident.to_string());
                    Some(path)
                }
                _ => None,
            })
        })
        .collect();
    for f in files.iter_mut() {
        f.test_only = declared.iter().any(|d| f.module.starts_with(d));
    }
}

/// One named path, resolved to crate-absolute segments, with where it was named.
struct Named {
    target: Vec<String>,
    in_test: bool,
}

struct Collector<'a> {
    /// Module path of the current scope (the file's, plus inline modules).
    scope: Vec<String>,
    file_module: &'a [String],
    /// Every file module: a path starting with a child module's name
    /// (`use procs::ProcTable` in `collect/mod.rs`) points into it.
    modules: &'a BTreeSet<Vec<String>>,
    test_depth: usize,
    out: Vec<Named>,
}

impl Collector<'_> {
    fn is_bin(&self) -> bool {
        self.file_module.first().is_some_and(|m| m == "bin")
    }

    /// Crate-absolute segments of a path whose first segments are `first`.
    fn resolve(&self, segs: &[String]) -> Option<Vec<String>> {
        let first = segs.first()?;
        match first.as_str() {
            "crate" => Some(segs[1..].to_vec()),
            "aiposture" if self.is_bin() => Some(segs[1..].to_vec()),
            "self" => {
                let mut s = self.scope.clone();
                s.extend_from_slice(&segs[1..]);
                Some(s)
            }
            "super" => {
                let mut s = self.scope.clone();
                let mut rest = segs;
                while rest.first().is_some_and(|x| x == "super") {
                    s.pop();
                    rest = &rest[1..];
                }
                s.extend_from_slice(rest);
                Some(s)
            }
            child => {
                let mut s = self.scope.clone();
                s.push(child.to_string());
                self.modules.contains(&s).then(|| {
                    s.extend_from_slice(&segs[1..]);
                    s
                })
            }
        }
    }

    fn push(&mut self, segs: Vec<String>) {
        if let Some(target) = self.resolve(&segs) {
            self.out.push(Named {
                target,
                in_test: self.test_depth > 0,
            });
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut s = prefix.clone();
                if n.ident != "self" {
                    s.push(n.ident.to_string());
                }
                self.push(s);
            }
            syn::UseTree::Rename(r) => {
                let mut s = prefix.clone();
                if r.ident != "self" {
                    s.push(r.ident.to_string());
                }
                self.push(s);
            }
            syn::UseTree::Glob(_) => self.push(prefix.clone()),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }

    /// `crate :: a :: b` (and `super ::`, `aiposture ::` in the binary) inside
    /// a macro's tokens, which syn leaves unparsed.
    fn tokens(&mut self, ts: TokenStream) {
        let toks: Vec<TokenTree> = ts.into_iter().collect();
        let mut i = 0;
        while i < toks.len() {
            match &toks[i] {
                TokenTree::Group(g) => self.tokens(g.stream()),
                TokenTree::Ident(id)
                    if matches!(id.to_string().as_str(), "crate" | "super" | "aiposture") =>
                {
                    let mut segs = vec![id.to_string()];
                    let mut j = i + 1;
                    loop {
                        let colons = matches!((toks.get(j), toks.get(j + 1)),
                            (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                                if a.as_char() == ':' && b.as_char() == ':');
                        match (colons, toks.get(j + 2)) {
                            (true, Some(TokenTree::Ident(n))) => {
                                segs.push(n.to_string());
                                j += 3;
                            }
                            _ => break,
                        }
                    }
                    if segs.len() > 1 {
                        self.push(segs);
                    }
                    i = j;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let test = is_cfg_test(&u.attrs);
        self.test_depth += usize::from(test);
        self.use_tree(&mut Vec::new(), &u.tree);
        self.test_depth -= usize::from(test);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        if segs.len() > 1 {
            self.push(segs);
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.tokens(m.tokens.clone());
        syn::visit::visit_macro(self, m);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let test = is_cfg_test(&m.attrs);
        self.test_depth += usize::from(test);
        self.scope.push(m.ident.to_string());
        syn::visit::visit_item_mod(self, m);
        self.scope.pop();
        self.test_depth -= usize::from(test);
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let test = is_cfg_test(&f.attrs);
        self.test_depth += usize::from(test);
        syn::visit::visit_item_fn(self, f);
        self.test_depth -= usize::from(test);
    }
}

fn named_paths(f: &SourceFile, modules: &BTreeSet<Vec<String>>) -> Vec<Named> {
    let mut c = Collector {
        scope: f.module.clone(),
        file_module: &f.module,
        modules,
        test_depth: usize::from(f.test_only),
        out: Vec::new(),
    };
    c.visit_file(&f.ast);
    c.out
}

fn top(m: &[String]) -> &str {
    m.first().map_or("", String::as_str)
}

fn layer(m: &str) -> Option<u8> {
    LAYERS.iter().find(|(n, _)| *n == m).map(|(_, l)| *l)
}

/// Top-level modules each file names, outside `#[cfg(test)]` code.
fn arrows() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let files = load();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
    for f in files {
        let from = top(&f.module).to_string();
        // lib.rs declares the modules; test_support is test-only code.
        if f.module.is_empty() || from == "test_support" {
            continue;
        }
        for n in named_paths(&f, &modules) {
            let to = top(&n.target).to_string();
            if n.in_test || to == from || to.is_empty() || layer(&to).is_none() {
                continue;
            }
            out.push((f.rel.clone(), from.clone(), to));
        }
    }
    out
}

#[test]
fn every_top_level_module_has_a_layer() {
    for f in load() {
        let t = top(&f.module);
        if f.module.is_empty() || t == "test_support" {
            continue;
        }
        assert!(layer(t).is_some(), "{}: module {t} has no layer", f.rel);
    }
}

#[test]
fn layers_point_one_way() {
    let mut bad = BTreeSet::new();
    for (file, from, to) in arrows() {
        let (Some(lf), Some(lt)) = (layer(&from), layer(&to)) else {
            continue;
        };
        if lt > lf {
            bad.insert(format!("{file}: {from} names {to}, a layer above it"));
        }
    }
    assert!(bad.is_empty(), "upward arrows:\n{}", join(&bad));
}

#[test]
fn each_layer_names_only_what_it_may() {
    let mut bad = BTreeSet::new();
    for (file, from, to) in arrows() {
        if let Some((_, allowed)) = ALLOWED.iter().find(|(m, _)| *m == from)
            && !allowed.contains(&to.as_str())
        {
            bad.insert(format!("{file}: {from} names {to}"));
        }
    }
    assert!(bad.is_empty(), "forbidden arrows:\n{}", join(&bad));
}

#[test]
fn only_the_edge_reads_the_configuration() {
    let bad: BTreeSet<String> = arrows()
        .into_iter()
        .filter(|(_, from, to)| to == "config" && from != "bin")
        .map(|(file, from, _)| format!("{file}: {from} names config"))
        .collect();
    assert!(
        bad.is_empty(),
        "config reached from inside:\n{}",
        join(&bad)
    );
}

/// The module file a crate-absolute path lands in: the longest prefix of its
/// segments that is a file's module.
fn owner<'m>(modules: &'m BTreeSet<Vec<String>>, path: &[String]) -> Option<&'m Vec<String>> {
    (1..=path.len())
        .rev()
        .find_map(|n| modules.get(&path[..n].to_vec()))
}

/// A `pub use`: `Some(name)` → its target path; `None` → a glob of the target module.
type Reexport = (Option<String>, Vec<String>);

/// Per file module: the names it defines, and its `pub use` re-exports.
struct Index {
    modules: BTreeSet<Vec<String>>,
    defines: BTreeMap<Vec<String>, BTreeSet<String>>,
    reexports: BTreeMap<Vec<String>, Vec<Reexport>>,
}

impl Index {
    fn new(files: &[SourceFile]) -> Index {
        let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
        let mut defines = BTreeMap::new();
        let mut reexports = BTreeMap::new();
        for f in files {
            let mut names = BTreeSet::new();
            let mut re = Vec::new();
            for item in &f.ast.items {
                let name = match item {
                    syn::Item::Struct(i) => Some(&i.ident),
                    syn::Item::Enum(i) => Some(&i.ident),
                    syn::Item::Fn(i) => Some(&i.sig.ident),
                    syn::Item::Const(i) => Some(&i.ident),
                    syn::Item::Static(i) => Some(&i.ident),
                    syn::Item::Type(i) => Some(&i.ident),
                    syn::Item::Trait(i) => Some(&i.ident),
                    syn::Item::Mod(i) => Some(&i.ident),
                    syn::Item::Union(i) => Some(&i.ident),
                    syn::Item::Use(u) if !matches!(u.vis, syn::Visibility::Inherited) => {
                        let mut c = Collector {
                            scope: f.module.clone(),
                            file_module: &f.module,
                            modules: &modules,
                            test_depth: 0,
                            out: Vec::new(),
                        };
                        reexport_tree(&mut c, &mut Vec::new(), &u.tree, &mut re);
                        None
                    }
                    _ => None,
                };
                if let Some(n) = name {
                    names.insert(n.to_string());
                }
            }
            defines.insert(f.module.clone(), names);
            reexports.insert(f.module.clone(), re);
        }
        Index {
            modules,
            defines,
            reexports,
        }
    }

    /// The file module a path really lands in, following re-exports.
    fn land(&self, path: &[String], depth: u8) -> Option<Vec<String>> {
        let m = owner(&self.modules, path)?.clone();
        let Some(name) = path.get(m.len()) else {
            return Some(m);
        };
        if depth > 8 || self.defines.get(&m).is_some_and(|d| d.contains(name)) {
            return Some(m);
        }
        for (n, target) in self.reexports.get(&m).into_iter().flatten() {
            match n {
                Some(n) if n == name => {
                    let mut t = target.clone();
                    t.extend_from_slice(&path[m.len() + 1..]);
                    return self.land(&t, depth + 1);
                }
                None => {
                    let mut t = target.clone();
                    t.extend_from_slice(&path[m.len()..]);
                    if let Some(l) = self.land(&t, depth + 1).filter(|l| *l != m) {
                        let defined = self
                            .defines
                            .get(&l)
                            .is_some_and(|d| path.get(m.len()).is_some_and(|x| d.contains(x)));
                        if defined {
                            return Some(l);
                        }
                    }
                }
                _ => {}
            }
        }
        Some(m)
    }
}

fn reexport_tree(
    c: &mut Collector,
    prefix: &mut Vec<String>,
    tree: &syn::UseTree,
    out: &mut Vec<Reexport>,
) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            reexport_tree(c, prefix, &p.tree, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let mut s = prefix.clone();
            s.push(n.ident.to_string());
            if let Some(t) = c.resolve(&s) {
                out.push((Some(n.ident.to_string()), t));
            }
        }
        syn::UseTree::Rename(r) => {
            let mut s = prefix.clone();
            s.push(r.ident.to_string());
            if let Some(t) = c.resolve(&s) {
                out.push((Some(r.rename.to_string()), t));
            }
        }
        syn::UseTree::Glob(_) => {
            if let Some(t) = c.resolve(prefix) {
                out.push((None, t));
            }
        }
        syn::UseTree::Group(g) => {
            for t in &g.items {
                reexport_tree(c, prefix, t, out);
            }
        }
    }
}

#[test]
fn no_import_circles_between_files() {
    let files = load();
    let index = Index::new(&files);
    let modules = &index.modules;
    let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for f in &files {
        if f.module.is_empty() || top(&f.module) == "test_support" {
            continue;
        }
        let edges = graph.entry(f.module.clone()).or_default();
        for n in named_paths(f, modules) {
            if n.in_test {
                continue;
            }
            if let Some(to) = index.land(&n.target, 0)
                && to != f.module
                && !to.is_empty()
            {
                edges.insert(to);
            }
        }
    }
    let cycles = find_cycles(&graph);
    assert!(
        cycles.is_empty(),
        "import circles between files:\n{}",
        cycles
            .iter()
            .map(|c| c
                .iter()
                .map(|m| m.join("::"))
                .collect::<Vec<_>>()
                .join(" → "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// One cycle per strongly connected component of more than one file (Tarjan).
fn find_cycles(g: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<Vec<String>>> {
    struct T<'g> {
        g: &'g BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'g Vec<String>, usize>,
        low: BTreeMap<&'g Vec<String>, usize>,
        stack: Vec<&'g Vec<String>>,
        on: BTreeSet<&'g Vec<String>>,
        next: usize,
        out: Vec<Vec<Vec<String>>>,
    }
    fn strong<'g>(t: &mut T<'g>, v: &'g Vec<String>) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        if let Some(es) = t.g.get(v) {
            for w in es {
                let Some((w, _)) = t.g.get_key_value(w) else {
                    continue;
                };
                if !t.index.contains_key(w) {
                    strong(t, w);
                    let lw = t.low[w];
                    let lv = t.low[v];
                    t.low.insert(v, lv.min(lw));
                } else if t.on.contains(w) {
                    let iw = t.index[w];
                    let lv = t.low[v];
                    t.low.insert(v, lv.min(iw));
                }
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w.clone());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v) {
            strong(&mut t, v);
        }
    }
    t.out
}

fn join(s: &BTreeSet<String>) -> String {
    s.iter().cloned().collect::<Vec<_>>().join("\n")
}

/// First segments of every path and `use` tree a file names (crate roots).
struct Roots(BTreeSet<String>);

impl<'ast> Visit<'ast> for Roots {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let trees: Vec<&syn::UseTree> = match &u.tree {
            syn::UseTree::Group(g) => g.items.iter().collect(),
            t => vec![t],
        };
        for t in trees {
            match t {
                syn::UseTree::Path(p) => self.0.insert(p.ident.to_string()),
                syn::UseTree::Name(n) => self.0.insert(n.ident.to_string()),
                syn::UseTree::Rename(r) => self.0.insert(r.ident.to_string()),
                _ => false,
            };
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.segments.len() > 1
            && let Some(first) = p.segments.first()
        {
            self.0.insert(first.ident.to_string());
        }
        syn::visit::visit_path(self, p);
    }
}

#[test]
fn ui_crates_stay_in_views_and_anyhow_at_the_edge() {
    let mut bad = BTreeSet::new();
    for f in load() {
        let mut r = Roots(BTreeSet::new());
        r.visit_file(&f.ast);
        let t = top(&f.module);
        for c in ["ratatui", "crossterm"] {
            if r.0.contains(c) && t != "views" {
                bad.insert(format!("{}: names {c} outside views/", f.rel));
            }
        }
        if r.0.contains("anyhow") && t != "bin" {
            bad.insert(format!("{}: names anyhow outside the edge", f.rel));
        }
    }
    assert!(bad.is_empty(), "{}", join(&bad));
}

/// ARCHITECTURE.md names every top-level module (as `name/` or `name.rs`).
#[test]
fn the_architecture_map_names_every_top_level_module() {
    let map =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md");
    let mut missing = BTreeSet::new();
    for f in load() {
        let name = match f.module.as_slice() {
            [] => continue,
            [bin, file] if bin == "bin" => format!("{file}.rs"),
            [m] if f.rel.ends_with(".rs") && !f.rel.contains('/') => format!("{m}.rs"),
            [m, ..] => format!("{m}/"),
        };
        if name == "test_support.rs" {
            continue;
        }
        if !map.contains(&format!("src/{name}")) && !map.contains(&format!("`{name}")) {
            missing.insert(name);
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not name: {}",
        join(&missing)
    );
}

/// Knowledge is data parsed in one place: only `knowledge/` embeds `assets/`.
#[test]
fn only_knowledge_embeds_assets() {
    let mut bad = BTreeSet::new();
    for f in load() {
        if top(&f.module) == "knowledge" {
            continue;
        }
        let text = std::fs::read_to_string(src().join(&f.rel)).expect("read source");
        for (i, line) in text.lines().enumerate() {
            let embeds = line.contains("include_str!") || line.contains("include_bytes!");
            if embeds && line.contains("assets/") {
                bad.insert(format!("{}:{}: {}", f.rel, i + 1, line.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "assets embedded outside knowledge/:\n{}",
        join(&bad)
    );
}
