//! joblib's arrays inside the stream: after a `NumpyArrayWrapper`'s BUILD its
//! unpickler reads the array data inline, so the walk must step over it.

use super::value::*;

/// What follows a wrapper's BUILD in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayLayout {
    /// An object array: a complete pickle (protocol 5) follows.
    Objects,
    /// `bytes` raw bytes, after a padding-length byte and padding if `padded`.
    Raw { bytes: u64, padded: bool },
}

/// The class whose BUILD joblib's unpickler follows with array data.
pub fn is_array_wrapper(module: &str, name: &str) -> bool {
    name == "NumpyArrayWrapper"
        && (module == "joblib.numpy_pickle" || module.ends_with(".joblib.numpy_pickle"))
}

/// Layout of the array a wrapper's BUILD `state` describes; `Err(why)` when
/// the state is not made of constants the walker tracked.
pub(crate) fn array_layout<'g>(
    state: &V,
    class: impl Fn(usize) -> Option<(&'g str, &'g str)>,
) -> Result<ArrayLayout, String> {
    let Some(V::Instance(dtype)) = state.dict_get("dtype") else {
        return Err("its dtype is not a known numpy.dtype".into());
    };
    let dtype = dtype.borrow();
    let is_dtype = class(dtype.class)
        .is_some_and(|(m, n)| n == "dtype" && (m == "numpy" || m.starts_with("numpy.")));
    if !is_dtype {
        return Err("its dtype is not made by numpy.dtype".into());
    }
    let Some(V::Str(code)) = dtype.args.first() else {
        return Err("its dtype has no type code".into());
    };
    // numpy's dtype state: (version, byteorder, subarray, names, fields,
    // elsize, alignment, flags, ...); elsize is -1 for fixed-size types.
    let field = |i: usize| match dtype.state.as_ref().and_then(|s| s.get(i).cloned()) {
        Some(V::Int(v)) => Some(v),
        _ => None,
    };
    let kind = code.trim_start_matches(['<', '>', '|', '=']);
    // NPY_ITEM_HASOBJECT is bit 0 of the flags (structured dtypes with an
    // object field have it; plain object dtype is kind 'O').
    if kind.starts_with('O') || field(7).is_some_and(|f| f & 1 != 0) {
        return Ok(ArrayLayout::Objects);
    }
    let itemsize = match field(5) {
        Some(n) if n > 0 => n as u64,
        _ => kind
            .get(1..)
            .and_then(|d| d.parse::<u64>().ok())
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("its dtype {code:?} has no known item size"))?,
    };
    let count = match state.dict_get("shape") {
        Some(V::Tuple(dims, _)) => dims.iter().try_fold(1u64, |acc, d| match d {
            V::Int(n) if *n >= 0 => acc
                .checked_mul(*n as u64)
                .ok_or_else(|| "its shape overflows".to_string()),
            _ => Err("its shape is not a tuple of integers".to_string()),
        })?,
        _ => return Err("its shape is not a tuple of integers".into()),
    };
    let padded = match state.dict_get("numpy_array_alignment_bytes") {
        None | Some(V::None) => false,
        Some(V::Int(_)) => true,
        Some(_) => return Err("its alignment is not an integer".into()),
    };
    let bytes = count.checked_mul(itemsize).ok_or("its size overflows")?;
    Ok(ArrayLayout::Raw { bytes, padded })
}
