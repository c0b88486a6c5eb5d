//! Multi-tensor arguments: one array, or a list/tuple of arrays, so that
//! one call covers every parameter of a network (like PyTorch's foreach
//! functions) and a small network costs one crossing into Rust.
//!
//! Arguments of one call must agree with its first multi-tensor argument
//! (both one array, or sequences of the same length: else `ValueError`)
//! and share one float dtype (`TypeError`).

use numpy::{PyReadwriteArrayDyn, PyUntypedArray};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use super::array::{common_dtype, in_place, type_error, value_error, Dtype, Elem, Input};

/// The arrays one argument holds, each with the name errors use for it
/// (`param`, or `param[2]` in a sequence).
pub struct Arg<'py> {
    pub name: String,
    pub items: Vec<(String, Bound<'py, PyAny>)>,
    pub sequence: bool,
}

impl<'py> Arg<'py> {
    /// Read argument `name`: an ndarray, or a list or tuple (of anything:
    /// each item is checked when it is borrowed), else `TypeError`.
    pub fn read(name: &str, obj: &Bound<'py, PyAny>) -> PyResult<Self> {
        if obj.cast::<PyUntypedArray>().is_ok() {
            return Ok(Self {
                name: name.to_string(),
                items: vec![(name.to_string(), obj.clone())],
                sequence: false,
            });
        }
        if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
            let items = obj
                .try_iter()?
                .enumerate()
                .map(|(i, a)| Ok((format!("{name}[{i}]"), a?)))
                .collect::<PyResult<_>>()?;
            return Ok(Self {
                name: name.to_string(),
                items,
                sequence: true,
            });
        }
        let ty = obj.get_type().name()?;
        Err(type_error(format!(
            "{name} must be a numpy.ndarray or a list of them, got {ty}"
        )))
    }

    /// [`Arg::read`], then a `ValueError` unless it holds what `first` holds.
    pub fn read_like(name: &str, obj: &Bound<'py, PyAny>, first: &Arg<'_>) -> PyResult<Self> {
        let arg = Self::read(name, obj)?;
        if arg.sequence != first.sequence || arg.items.len() != first.items.len() {
            return Err(value_error(format!(
                "{name} must match {first_name}: {first_name} is {}, {name} is {}",
                first.describe(),
                arg.describe(),
                first_name = first.name
            )));
        }
        Ok(arg)
    }

    fn describe(&self) -> String {
        if self.sequence {
            format!("a sequence of {} arrays", self.items.len())
        } else {
            "one array".to_string()
        }
    }

    /// Every item borrowed for writing in place (C-contiguous, writeable,
    /// not borrowed elsewhere, else `ValueError`).
    pub fn written<T: Elem>(&self) -> PyResult<Vec<PyReadwriteArrayDyn<'py, T>>> {
        self.items.iter().map(|(name, a)| in_place::<T>(name, a)).collect()
    }

    /// Every item borrowed for reading (copied to C order if needed).
    pub fn inputs<T: Elem>(&self) -> PyResult<Vec<Input<'py, T>>> {
        self.items.iter().map(|(name, a)| Input::<T>::new(name, a)).collect()
    }
}

/// The one float dtype of every array in `args` (`TypeError` for another
/// dtype or a mix), or None when they hold no array at all.
pub fn dtype_of(args: &[&Arg<'_>]) -> PyResult<Option<Dtype>> {
    let all: Vec<(&str, &Bound<'_, PyAny>)> = args
        .iter()
        .flat_map(|arg| arg.items.iter().map(|(n, a)| (n.as_str(), a)))
        .collect();
    if all.is_empty() {
        Ok(None)
    } else {
        common_dtype(&all).map(Some)
    }
}
