//! Errors out of a parallel region: chunks return nothing, so each records
//! its error here and the caller turns the first one into the result.

use std::sync::Mutex;

use super::error::{KResult, KernelError};

/// The first error a chunk of a parallel region hit (other chunks may still
/// run; the region's output is then discarded).
#[derive(Default)]
pub struct FirstError(Mutex<Option<KernelError>>);

impl FirstError {
    /// Run `f`, keeping its error if it is the first.
    pub fn record(&self, f: impl FnOnce() -> KResult<()>) {
        if let Err(e) = f() {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
        }
    }

    /// `Err` with the first recorded error, else `Ok`.
    pub fn into_result(self) -> KResult<()> {
        match self.0.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_error() {
        let failed = FirstError::default();
        failed.record(|| Ok(()));
        failed.record(|| Err(KernelError::TooLarge { what: "a" }));
        failed.record(|| Err(KernelError::TooLarge { what: "b" }));
        assert_eq!(failed.into_result(), Err(KernelError::TooLarge { what: "a" }));
        assert_eq!(FirstError::default().into_result(), Ok(()));
    }
}
