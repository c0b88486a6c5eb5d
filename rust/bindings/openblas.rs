//! NumPy's BLAS on ferronet's threads: the callback that OpenBLAS (0.3.27
//! and later) calls with its parallel jobs instead of waking its own
//! threads, and what Python needs to install it (`ferronet/numpy_blas.py`).
//!
//! OpenBLAS's own threads spin for about 0.1 s after every call, holding a
//! core the native kernels need; the gang workers (`kernels/parallel/gang.rs`)
//! sleep soon after. The jobs, their count and their results are
//! OpenBLAS's own: only the threads that run them change.

use std::ffi::{c_int, c_void};

use pyo3::prelude::*;

use crate::kernels::parallel::gang;

/// OpenBLAS's job function: `dojob(job index, that job's data, dojob_data)`.
type DoJob = unsafe extern "C" fn(c_int, *mut c_void, c_int);
/// OpenBLAS's `openblas_threads_callback` type.
type DoJobCallback = unsafe extern "C" fn(c_int, DoJob, c_int, usize, *mut c_void, c_int);

/// OpenBLAS's `openblas_threads_callback`: run `dojob` for jobs
/// `0..numjobs` at the same time, job `i` on `jobdata + i * elsize`, and
/// return when all have ended (OpenBLAS always asks for that: `sync` is 1).
///
/// # Safety
/// Called by OpenBLAS only, with a valid job function and `numjobs` job
/// records of `elsize` bytes at `jobdata`.
unsafe extern "C" fn run_openblas_jobs(
    _sync: c_int,
    dojob: DoJob,
    numjobs: c_int,
    elsize: usize,
    jobdata: *mut c_void,
    dojob_data: c_int,
) {
    let jobs = usize::try_from(numjobs).unwrap_or(0);
    let first = jobdata as usize; // an address, so the closure is Sync
    let job = move |i: usize| {
        // SAFETY: i < numjobs, so the record lies inside OpenBLAS's job array.
        unsafe { dojob(i as c_int, (first + i * elsize) as *mut c_void, dojob_data) }
    };
    gang::run(jobs, &job);
}

/// The address of the callback, for `openblas_set_threads_callback_function`.
#[pyfunction]
pub fn _openblas_callback_address() -> usize {
    run_openblas_jobs as DoJobCallback as usize
}

/// Gangs run so far (OpenBLAS calls that came through the callback) and gang
/// workers started, for tests and `show_config`.
#[pyfunction]
pub fn _blas_gangs() -> (u64, usize) {
    (gang::gangs_run(), gang::workers_started())
}
