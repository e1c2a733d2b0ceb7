//! Knowledge shipped as data in `assets/`, embedded at build time and parsed once.

pub mod signatures;

pub use signatures::{Signature, Signatures};
