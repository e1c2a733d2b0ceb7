//! Readers of model-file bytes: bounded, safe on hostile input, and never
//! executing anything. They report facts (format, header fields, the globals a
//! pickle would import); verdicts on those facts belong to `rules`.

pub mod analyse;
pub mod archive;
pub mod gguf;
pub mod hdf5;
pub mod joblib;
pub mod keras;
pub mod magic;
pub mod npy;
pub mod npy_header;
pub mod npz;
pub mod onnx;
pub mod onnx_structure;
pub mod pickle;
pub mod protowire;
pub mod safetensors;
pub mod sidecars;
pub mod torch_legacy;
