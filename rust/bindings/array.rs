//! Array checks shared by every binding.
//!
//! * dtype: float32 or float64, one dtype per call -> `TypeError`
//! * shapes that disagree -> `ValueError` naming both
//! * non-contiguous inputs are copied; arrays written in place must be
//!   C-contiguous and writeable -> `ValueError`
//! * labels: any integer dtype, values in range -> `ValueError`
//! * non-float arrays (int32 indices, bool masks): exactly their dtype, else `TypeError`

use numpy::{
    Element, IxDyn, PyArray, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyReadwriteArrayDyn,
    PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use numpy::ndarray;

use crate::kernels::buffers::{self, Block};
use crate::kernels::float::Float;
use crate::kernels::matmul::MatRef;

/// Element types the bindings accept.
pub trait Elem: Float + Plain {}
impl Elem for f32 {}
impl Elem for f64 {}

/// Element types whose every bit pattern is a value, so a new array of them
/// may start uninitialised ([`Output::try_new`]); `bool` is not one.
pub trait Plain: Element {}
impl Plain for f32 {}
impl Plain for f64 {}
impl Plain for i32 {}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dtype {
    F32,
    F64,
}

pub fn type_error(msg: impl Into<String>) -> PyErr {
    PyTypeError::new_err(msg.into())
}

pub fn value_error(msg: impl Into<String>) -> PyErr {
    PyValueError::new_err(msg.into())
}

/// A shape as Python prints it: `(3, 4)`, `(5,)`, `()`.
pub fn fmt_shape(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn as_ndarray<'a, 'py>(name: &str, obj: &'a Bound<'py, PyAny>) -> PyResult<&'a Bound<'py, PyUntypedArray>> {
    obj.cast::<PyUntypedArray>().map_err(|_| {
        let ty = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        type_error(format!(
            "{name} must be a numpy.ndarray of float32 or float64, got {ty}"
        ))
    })
}

fn dtype_name(arr: &Bound<'_, PyUntypedArray>) -> String {
    arr.dtype().str().map(|s| s.to_string()).unwrap_or_else(|_| "?".into())
}

/// The float dtype of `obj`, or a `TypeError` naming the accepted dtypes.
pub fn float_dtype(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Dtype> {
    let arr = as_ndarray(name, obj)?;
    let py = obj.py();
    let dtype = arr.dtype();
    if dtype.is_equiv_to(&numpy::dtype::<f32>(py)) {
        Ok(Dtype::F32)
    } else if dtype.is_equiv_to(&numpy::dtype::<f64>(py)) {
        Ok(Dtype::F64)
    } else {
        Err(type_error(format!(
            "{name} must have dtype float32 or float64, got {}",
            dtype_name(arr)
        )))
    }
}

/// The one float dtype shared by all `arrays`; mixing float32 and float64 is
/// a `TypeError` (no silent casting).
pub fn common_dtype(arrays: &[(&str, &Bound<'_, PyAny>)]) -> PyResult<Dtype> {
    let (first_name, first) = arrays[0];
    let dtype = float_dtype(first_name, first)?;
    for &(name, obj) in &arrays[1..] {
        let other = float_dtype(name, obj)?;
        if other != dtype {
            let show = |d| if d == Dtype::F32 { "float32" } else { "float64" };
            return Err(type_error(format!(
                "dtype mismatch: {first_name} is {} but {name} is {}; float32 and float64 are not mixed (no silent casting)",
                show(dtype),
                show(other)
            )));
        }
    }
    Ok(dtype)
}

fn borrow_error(name: &str) -> PyErr {
    value_error(format!(
        "{name} is being written by another call or overlaps an array written by this call"
    ))
}

/// A read-only input borrowed from NumPy.
pub struct Input<'py, T: Element> {
    array: PyReadonlyArrayDyn<'py, T>,
}

impl<'py, T: Element> Input<'py, T> {
    /// Borrow `obj` (whose dtype the caller checked is `T`), copying it to
    /// C order first when it is not C-contiguous.
    pub fn new(name: &str, obj: &Bound<'py, PyAny>) -> PyResult<Self> {
        let contiguous = obj
            .cast::<PyUntypedArray>()
            .map(|a| a.is_c_contiguous())
            .unwrap_or(false);
        if contiguous {
            Self::borrow(name, obj)
        } else {
            Self::borrow(name, &ascontiguousarray(obj)?)
        }
    }

    /// Borrow `obj` as it is when its strides are non-negative whole
    /// elements (views such as `a.T` need no copy), else a C-ordered copy.
    pub fn strided(name: &str, obj: &Bound<'py, PyAny>) -> PyResult<Self> {
        let usable = obj.cast::<PyUntypedArray>().map(|a| {
            let item = a.dtype().itemsize() as isize;
            a.strides().iter().all(|&s| s >= 0 && s % item == 0)
        });
        if usable.unwrap_or(false) {
            Self::borrow(name, obj)
        } else {
            Self::borrow(name, &ascontiguousarray(obj)?)
        }
    }

    fn borrow(name: &str, obj: &Bound<'py, PyAny>) -> PyResult<Self> {
        let typed = obj
            .cast::<PyArrayDyn<T>>()
            .map_err(|_| type_error(format!("{name} has the wrong dtype")))?;
        let array = typed.try_readonly().map_err(|_| borrow_error(name))?;
        Ok(Self { array })
    }

    pub fn shape(&self) -> &[usize] {
        self.array.shape()
    }

    /// The elements in C order (inputs made with [`Input::new`]).
    pub fn slice(&self) -> &[T] {
        self.array.as_slice().expect("Input::new keeps arrays C-contiguous")
    }

    /// A 2-d input as a strided matrix view (no copy).
    pub fn matrix(&self) -> MatRef<'_, T> {
        let view = self.array.as_array();
        let (rows, cols) = (view.shape()[0], view.shape()[1]);
        let (rs, cs) = (view.strides()[0] as usize, view.strides()[1] as usize);
        let span = if rows == 0 || cols == 0 {
            0
        } else {
            (rows - 1) * rs + (cols - 1) * cs + 1
        };
        // SAFETY: the array owns every element reachable with its
        // non-negative strides, all within `span` of its first element.
        let data = unsafe { std::slice::from_raw_parts(view.as_ptr(), span) };
        MatRef::new(data, rows, cols, rs, cs).expect("strides stay inside the array")
    }
}

fn ascontiguousarray<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    obj.py().import("numpy")?.call_method1("ascontiguousarray", (obj,))
}

/// An array written in place: must be C-contiguous and writeable.
pub fn in_place<'py, T: Elem>(name: &str, obj: &Bound<'py, PyAny>) -> PyResult<PyReadwriteArrayDyn<'py, T>> {
    let typed = obj
        .cast::<PyArrayDyn<T>>()
        .map_err(|_| type_error(format!("{name} has the wrong dtype")))?;
    if !typed.is_c_contiguous() {
        return Err(value_error(format!(
            "{name} is written in place and must be C-contiguous (got strides {:?})",
            typed.strides()
        )));
    }
    let writeable = typed.getattr("flags")?.getattr("writeable")?.extract::<bool>()?;
    if !writeable {
        return Err(value_error(format!("{name} is written in place but is read-only")));
    }
    typed.try_readwrite().map_err(|_| borrow_error(name))
}

/// A new C-contiguous array of `shape`, to be filled completely by a kernel.
pub struct Output<'py, T: Element> {
    array: Bound<'py, PyArrayDyn<T>>,
}

/// Arrays above this size are made by NumPy's Python functions, which raise
/// `MemoryError` when the allocation fails (rust-numpy's constructors panic).
const LARGE_BYTES: usize = 1 << 30;

/// With `FERRONET_POISON_OUTPUTS=1` in the environment every new output
/// starts as NaN (-1 for integers), so a kernel that leaves an element
/// unwritten shows it (a debugging switch: the tests run the kernel
/// comparisons with it once).
pub fn poison_outputs() -> bool {
    static POISON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *POISON.get_or_init(|| std::env::var_os("FERRONET_POISON_OUTPUTS").is_some_and(|v| v == "1"))
}

/// The memory of an output array from the buffer cache (`kernels::buffers`):
/// the array's base object, which gives the memory back for reuse when the
/// array (and every view of it) is gone.
#[pyclass(frozen, module = "ferronet._native")]
pub struct Buffer {
    _block: Block,
}

impl<'py, T: Plain> Output<'py, T> {
    /// An uninitialised array of `shape` (it may be huge: `ValueError` or
    /// `MemoryError` instead of a panic). Arrays of at least
    /// [`buffers::MIN_KEPT`] bytes take their memory from the buffer cache
    /// (unless its limit is 0: then NumPy allocates them, as for small ones,
    /// through its Python function above [`LARGE_BYTES`]).
    pub fn try_new(py: Python<'py>, shape: &[usize]) -> PyResult<Self> {
        let bytes = Self::bytes(shape)?;
        let mut output = if bytes >= buffers::MIN_KEPT && buffers::limit() > 0 {
            Self::from_cache(py, shape, bytes)?
        } else if bytes <= LARGE_BYTES {
            // SAFETY: the contents are uninitialised until a kernel writes every
            // element through `data`, which happens before Python can see them.
            Self {
                array: unsafe { PyArray::<T, IxDyn>::new(py, shape, false) },
            }
        } else {
            Self::from_numpy(py, "empty", shape)?
        };
        if poison_outputs() {
            let data = output.data();
            // SAFETY: all-ones bytes are a value of every Plain type (NaN, -1).
            unsafe { std::ptr::write_bytes(data.as_mut_ptr(), 0xFF, data.len()) };
        }
        Ok(output)
    }

    fn from_cache(py: Python<'py>, shape: &[usize], bytes: usize) -> PyResult<Self> {
        let block = Block::take(bytes)?;
        let data = block.as_mut_ptr() as *const T;
        let container = Bound::new(py, Buffer { _block: block })?;
        // SAFETY: the block holds `bytes` = the elements of `shape`, aligned
        // for T; it lives as long as `container`, the array's base object.
        let array = unsafe {
            let view = ndarray::ArrayViewD::from_shape_ptr(IxDyn(shape), data);
            PyArray::borrow_from_array(&view, container.into_any())
        };
        Ok(Self { array })
    }
}

impl<'py, T: Element> Output<'py, T> {
    /// A new array of zeros (`ValueError` or `MemoryError` when too large).
    pub fn zeros(py: Python<'py>, shape: &[usize]) -> PyResult<Self> {
        if Self::bytes(shape)? <= LARGE_BYTES {
            Ok(Self {
                array: PyArray::<T, IxDyn>::zeros(py, shape, false),
            })
        } else {
            Self::from_numpy(py, "zeros", shape)
        }
    }

    /// The array's size in bytes. Like NumPy, refuse a shape whose non-zero
    /// dimensions overflow even when another dimension is 0.
    fn bytes(shape: &[usize]) -> PyResult<usize> {
        let nonzero = shape
            .iter()
            .filter(|&&d| d != 0)
            .try_fold(std::mem::size_of::<T>(), |n, &d| n.checked_mul(d))
            .filter(|&n| n <= isize::MAX as usize)
            .ok_or_else(|| value_error(format!("an array of shape {} would be too big", fmt_shape(shape))))?;
        Ok(if shape.contains(&0) { 0 } else { nonzero })
    }

    fn from_numpy(py: Python<'py>, function: &str, shape: &[usize]) -> PyResult<Self> {
        let array = py
            .import("numpy")?
            .call_method1(function, (shape.to_vec(), numpy::dtype::<T>(py)))?;
        Ok(Self {
            array: array.cast_into::<PyArrayDyn<T>>()?,
        })
    }

    /// The elements, for the kernel to write.
    pub fn data(&mut self) -> &mut [T] {
        // SAFETY: the array is new, C-contiguous and not yet shared with Python.
        unsafe { self.array.as_slice_mut().expect("new arrays are contiguous") }
    }

    pub fn into_any(self) -> Bound<'py, PyAny> {
        self.array.into_any()
    }
}

/// A `TypeError` unless `obj` is an array of exactly `T` (`dtype` names it).
pub fn require_dtype<T: Element>(name: &str, dtype: &str, obj: &Bound<'_, PyAny>) -> PyResult<()> {
    let arr = obj.cast::<PyUntypedArray>().map_err(|_| {
        let ty = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        type_error(format!("{name} must be a numpy.ndarray of {dtype}, got {ty}"))
    })?;
    if !arr.dtype().is_equiv_to(&numpy::dtype::<T>(obj.py())) {
        return Err(type_error(format!(
            "{name} must be a numpy.ndarray of {dtype}, got dtype {}",
            dtype_name(arr)
        )));
    }
    Ok(())
}

/// `obj` as a read-only array of exactly `T` (`dtype` names it in errors),
/// copied to C order if needed; a non-array or another dtype is a `TypeError`.
pub fn exact_input<'py, T: Element>(name: &str, dtype: &str, obj: &Bound<'py, PyAny>) -> PyResult<Input<'py, T>> {
    require_dtype::<T>(name, dtype, obj)?;
    Input::new(name, obj)
}

pub fn same_shape(name_a: &str, a: &[usize], name_b: &str, b: &[usize]) -> PyResult<()> {
    if a != b {
        return Err(value_error(format!(
            "shape mismatch: {name_a} has shape {} but {name_b} has shape {}",
            fmt_shape(a),
            fmt_shape(b)
        )));
    }
    Ok(())
}

/// A `ValueError` unless `shape` is `(c,)`.
pub fn per_channel(name: &str, shape: &[usize], c: usize, x: &[usize]) -> PyResult<()> {
    if shape != [c] {
        return Err(value_error(format!(
            "{name} must have shape ({c},) (one entry per channel of x with shape {}), got {}",
            fmt_shape(x),
            fmt_shape(shape)
        )));
    }
    Ok(())
}

pub fn require_ndim(name: &str, shape: &[usize], ndim: usize) -> PyResult<()> {
    if shape.len() != ndim {
        return Err(value_error(format!(
            "{name} must be {ndim}-d, got shape {}",
            fmt_shape(shape)
        )));
    }
    Ok(())
}

/// Integer class labels `(n,)` with values in `0..classes`, as i64.
pub fn labels(obj: &Bound<'_, PyAny>, n: usize, classes: usize) -> PyResult<Vec<i64>> {
    let arr = obj
        .cast::<PyUntypedArray>()
        .map_err(|_| type_error("labels must be an integer ndarray (or one-hot rows of the logits' dtype)"))?;
    let kind = arr.dtype().kind();
    if kind != b'i' && kind != b'u' {
        return Err(type_error(format!(
            "labels must be an integer ndarray (or one-hot rows of the logits' dtype), got {}",
            dtype_name(arr)
        )));
    }
    if arr.shape() != [n] {
        return Err(value_error(format!(
            "labels must have shape ({n},) to match logits with {n} rows, got shape {}",
            fmt_shape(arr.shape())
        )));
    }
    let as_i64 = if arr.dtype().is_equiv_to(&numpy::dtype::<i64>(obj.py())) {
        obj.clone()
    } else {
        obj.call_method1("astype", ("int64",))?
    };
    let typed = as_i64
        .cast::<PyArrayDyn<i64>>()
        .map_err(|_| type_error("labels could not be read as int64"))?;
    let values: Vec<i64> = typed
        .try_readonly()
        .map_err(|_| borrow_error("labels"))?
        .as_array()
        .iter()
        .copied()
        .collect();
    if let (Some(&min), Some(&max)) = (values.iter().min(), values.iter().max()) {
        if min < 0 || max as u64 >= classes as u64 {
            // Report the original values (astype may have wrapped huge unsigned ones).
            let (lo, hi): (String, String) = (
                obj.call_method0("min")?.str()?.to_string(),
                obj.call_method0("max")?.str()?.to_string(),
            );
            return Err(value_error(format!(
                "labels out of range: expected values in [0, {classes}), got min {lo} max {hi}"
            )));
        }
    }
    Ok(values)
}
