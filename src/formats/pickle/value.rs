//! The symbolic values the walker tracks (string constants, small tuples and
//! dicts, instances) and the stack machine of the unpickler: stack, marks, memo.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::limits::*;

/// Why a walk stopped early.
pub(crate) enum Fail {
    /// Malformed stream: the real unpickler fails here too.
    Malformed(String),
    /// The input ends early: the real unpickler fails here too, or the
    /// caller read too little.
    Truncated(String),
    /// A bound of this walker was exceeded.
    Bound(String),
}

impl Fail {
    pub(crate) fn message(&self) -> &str {
        match self {
            Fail::Malformed(m) | Fail::Truncated(m) | Fail::Bound(m) => m,
        }
    }
}

/// A symbolic stack or memo value: string constants, small integers, imports,
/// and (within [`VALUE_BUDGET`]) the small tuples, dicts and instances that
/// joblib's array wrappers are made of. Dicts never hold dicts and instances
/// hold only tuples, so values form no cycles; tuples nest at most
/// [`MAX_VALUE_DEPTH`] deep.
#[derive(Clone)]
pub(crate) enum V {
    Mark,
    Str(Rc<str>),
    Int(i64),
    Global(usize),
    /// Elements and nesting depth (kept, so no walk ever recurses through
    /// shared sub-tuples).
    Tuple(Rc<[V]>, u8),
    Dict(Rc<RefCell<Entries>>),
    Instance(Rc<RefCell<Instance>>),
    None,
    Other,
}

/// A known dict's string-keyed entries, in insertion order.
pub(crate) type Entries = Vec<(Rc<str>, V)>;

/// An object made by calling a global: its class (or factory), arguments and
/// BUILD state, as far as they are known.
pub(crate) struct Instance {
    pub class: usize,
    pub args: Rc<[V]>,
    pub state: Option<Rc<[V]>>,
}

impl V {
    pub(crate) fn depth(&self) -> u8 {
        match self {
            V::Tuple(_, depth) => *depth,
            _ => 0,
        }
    }

    /// Tuple elements: no mutable containers (no cycles), bounded depth.
    pub(crate) fn tuple_element(self) -> V {
        match self {
            V::Dict(_) | V::Instance(_) | V::Mark => V::Other,
            v => v,
        }
    }

    pub(super) fn dict_get(&self, key: &str) -> Option<V> {
        match self {
            V::Dict(d) => d
                .borrow()
                .iter()
                .rev()
                .find(|(k, _)| &**k == key)
                .map(|(_, v)| v.clone()),
            _ => None,
        }
    }
}

#[derive(Default)]
pub(crate) struct Machine {
    pub(crate) stack: Vec<V>,
    pub(crate) marks: usize,
    pub(crate) memo: HashMap<u64, V>,
}

impl Machine {
    pub(crate) fn push(&mut self, v: V) -> Result<(), Fail> {
        if self.stack.len() >= MAX_STACK {
            return Err(Fail::Bound(format!(
                "stack deeper than {MAX_STACK} entries"
            )));
        }
        if matches!(v, V::Mark) {
            self.marks += 1;
        }
        self.stack.push(v);
        Ok(())
    }

    /// Pops one object; a mark or an empty stack is an underflow, as in Python.
    pub(crate) fn pop(&mut self, at: u64) -> Result<V, Fail> {
        match self.stack.last() {
            Some(V::Mark) | None => Err(underflow(at)),
            Some(_) => Ok(self.stack.pop().unwrap_or(V::Other)),
        }
    }

    pub(crate) fn top(&self, at: u64) -> Result<&V, Fail> {
        match self.stack.last() {
            Some(V::Mark) | None => Err(underflow(at)),
            Some(v) => Ok(v),
        }
    }

    /// Pops down to and including the topmost mark; returns the objects above
    /// it, lowest first.
    pub(crate) fn pop_mark(&mut self, at: u64) -> Result<Vec<V>, Fail> {
        if self.marks == 0 {
            return Err(Fail::Malformed(format!(
                "opcode at offset {at} needs a MARK and there is none"
            )));
        }
        let Some(i) = self.stack.iter().rposition(|v| matches!(v, V::Mark)) else {
            return Err(underflow(at));
        };
        let items = self.stack.split_off(i + 1);
        self.stack.pop();
        self.marks -= 1;
        Ok(items)
    }

    pub(crate) fn put(&mut self, key: u64, at: u64) -> Result<(), Fail> {
        let v = self.top(at)?.clone();
        if self.memo.len() >= MAX_MEMO && !self.memo.contains_key(&key) {
            return Err(Fail::Bound(format!("memo larger than {MAX_MEMO} entries")));
        }
        self.memo.insert(key, v);
        Ok(())
    }

    pub(crate) fn get(&mut self, key: u64, at: u64) -> Result<(), Fail> {
        let v = self.memo.get(&key).cloned().ok_or_else(|| {
            Fail::Malformed(format!(
                "memo key {key} read at offset {at} was never stored"
            ))
        })?;
        self.push(v)
    }
}

pub(crate) fn underflow(at: u64) -> Fail {
    Fail::Malformed(format!("stack underflow at offset {at}"))
}
