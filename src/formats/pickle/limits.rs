//! Bounds of one walk: every one ends it as `Unparseable`, never a guess.

/// Most opcodes walked in one scan, nested pickles included.
pub const MAX_OPCODES: u64 = 50_000_000;
/// Deepest symbolic stack (marks included).
pub const MAX_STACK: usize = 1_000_000;
/// Most memo entries of one pickle: the most a 2^20-bucket hash table holds
/// (7/8 full), so a memo flood costs ~35 MiB, not the ~100 MiB of the next growth.
pub const MAX_MEMO: usize = (1 << 20) / 8 * 7;
/// Most imports recorded in one scan.
pub const MAX_GLOBALS: usize = 100_000;
/// Longest string kept as a constant: module and attribute names are short.
pub const MAX_SYMBOL: usize = 1024;
/// Total bytes of string constants kept by one scan.
pub const SYMBOL_BUDGET: usize = 32 << 20;
/// Pickles inside pickles are followed this deep.
pub const MAX_NESTING: u32 = 3;
/// Largest file `scan_file` reads (pickles inside PyTorch zips are small).
pub const MAX_FILE: u64 = 256 << 20;
/// Elements of tuples and dicts kept as known values by one scan (joblib's
/// array wrappers need shapes and dtypes); past it, composites are unknown.
pub const VALUE_BUDGET: usize = 1 << 20;
/// Longest tuple or dict kept as a known value.
pub(crate) const MAX_COMPOSITE: usize = 64;
/// Deepest tuple nesting kept as a known value (keeps drops shallow).
pub(crate) const MAX_VALUE_DEPTH: u8 = 4;
pub(crate) const MAX_NOTES: usize = 64;
pub(crate) const COMPUTED: &str = "<computed>";
pub(crate) const HIGHEST_PROTOCOL: u8 = 5;
