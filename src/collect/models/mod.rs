//! Model files on the host: those a server maps or holds open, the stores and
//! model directories they come from, who can write them, and their content
//! hashes (cache, background hasher, integrity against store digests).

pub mod access;
pub mod dirs;
pub mod hashcache;
pub mod hasher;
pub(crate) mod integrity;
pub mod loaded;
pub mod stores;
