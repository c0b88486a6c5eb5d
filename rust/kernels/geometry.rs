//! The geometry of a sliding window (convolution filter or pooling window)
//! over an NCHW batch: input and output sizes, stride and zero padding.

/// A window of `fh x fw` sliding with `stride` over `n x c x h x w` input
/// padded by `pad` on every side, giving `oh x ow` output positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub fh: usize,
    pub fw: usize,
    pub stride: usize,
    pub pad: usize,
    pub oh: usize,
    pub ow: usize,
}

/// Geometry that does not fit, with the numbers involved; the bindings
/// format it with the array's name and shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeometryError {
    /// `stride` is 0.
    ZeroStride,
    /// A window with no rows or no columns.
    EmptyWindow { fh: usize, fw: usize },
    /// `pad` so large that the padded size overflows.
    PadOverflow { pad: usize },
    /// The window does not fit the padded input `(ph, pw)`.
    WindowTooLarge { fh: usize, fw: usize, ph: usize, pw: usize },
    /// The input, or the im2col matrix its windows unroll to, overflows `usize`.
    TooLarge,
    /// Pooling: a window could hold only padding (`pad >= pool size`).
    PadNotBelowPool { pad: usize, fh: usize, fw: usize },
    /// Pooling: a plane with no elements.
    EmptyPlane,
    /// Pooling: `h * w` does not fit the int32 argmax.
    PlaneTooLargeForArgmax { h: usize, w: usize },
}

impl std::fmt::Display for GeometryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Self::ZeroStride => write!(f, "stride must be >= 1, got 0"),
            Self::EmptyWindow { fh, fw } => write!(f, "window size must be at least (1, 1), got ({fh}, {fw})"),
            Self::PadOverflow { pad } => write!(f, "pad {pad} is too large"),
            Self::WindowTooLarge { fh, fw, ph, pw } => {
                write!(f, "window ({fh}, {fw}) is larger than the padded input ({ph}, {pw})")
            }
            Self::TooLarge => write!(f, "the arrays for this geometry would be too large"),
            Self::PadNotBelowPool { pad, fh, fw } => write!(
                f,
                "pad {pad} must be smaller than the pool ({fh}, {fw}): a window would hold only padding"
            ),
            Self::EmptyPlane => write!(f, "the input has an empty plane: every window would hold only padding"),
            Self::PlaneTooLargeForArgmax { h, w } => write!(f, "H*W = {h}*{w} does not fit the int32 argmax"),
        }
    }
}

/// The largest size (elements) any computed dimension may have: NumPy's int64.
const MAX_SIZE: u128 = i64::MAX as u128;

/// `size + 2 * pad` when it fits an int64.
fn padded(size: usize, pad: usize) -> Option<usize> {
    let p = size as u128 + 2 * pad as u128;
    (p <= MAX_SIZE).then_some(p as usize)
}

/// Whether the product of `dims` fits an int64 (exact: u128 arithmetic, so
/// a zero anywhere makes it fit).
fn fits(dims: &[usize]) -> bool {
    if dims.contains(&0) {
        return true;
    }
    dims.iter()
        .try_fold(1u128, |acc, &d| acc.checked_mul(d as u128).filter(|&p| p <= MAX_SIZE))
        .is_some()
}

impl Window {
    /// Check the geometry and compute the output size
    /// `oh = (h + 2 pad - fh) / stride + 1` (likewise `ow`).
    ///
    /// Errors, in the NumPy reference's order: stride 0, an empty window, a
    /// pad that overflows, a window larger than the padded input, arrays too
    /// large to index.
    pub fn new(input: [usize; 4], fh: usize, fw: usize, stride: usize, pad: usize) -> Result<Self, GeometryError> {
        let [n, c, h, w] = input;
        if stride == 0 {
            return Err(GeometryError::ZeroStride);
        }
        if fh == 0 || fw == 0 {
            return Err(GeometryError::EmptyWindow { fh, fw });
        }
        let (Some(ph), Some(pw)) = (padded(h, pad), padded(w, pad)) else {
            return Err(GeometryError::PadOverflow { pad });
        };
        if fh > ph || fw > pw {
            return Err(GeometryError::WindowTooLarge { fh, fw, ph, pw });
        }
        let (oh, ow) = ((ph - fh) / stride + 1, (pw - fw) / stride + 1);
        // the sizes the kernels compute must fit an int64: an output plane,
        // and the rows and columns of the im2col matrix (n*oh*ow, c*fh*fw)
        if !fits(&[oh, ow]) || !fits(&[n, oh, ow]) || !fits(&[c, fh, fw]) {
            return Err(GeometryError::TooLarge);
        }
        Ok(Self {
            n,
            c,
            h,
            w,
            fh,
            fw,
            stride,
            pad,
            oh,
            ow,
        })
    }

    /// [`Window::new`] for a pooling window, which also needs every window
    /// to hold an element of the plane (`pad < fh`, `pad < fw`, a non-empty
    /// plane) and plane indices that fit the int32 argmax.
    pub fn pooling(input: [usize; 4], fh: usize, fw: usize, stride: usize, pad: usize) -> Result<Self, GeometryError> {
        let [n, c, h, w] = input;
        if stride == 0 {
            return Err(GeometryError::ZeroStride);
        }
        if fh == 0 || fw == 0 {
            return Err(GeometryError::EmptyWindow { fh, fw });
        }
        let (Some(ph), Some(pw)) = (padded(h, pad), padded(w, pad)) else {
            return Err(GeometryError::PadOverflow { pad });
        };
        if fh > ph || fw > pw {
            return Err(GeometryError::WindowTooLarge { fh, fw, ph, pw });
        }
        if pad >= fh || pad >= fw {
            return Err(GeometryError::PadNotBelowPool { pad, fh, fw });
        }
        if h == 0 || w == 0 {
            return Err(GeometryError::EmptyPlane);
        }
        if h as u128 * w as u128 > i32::MAX as u128 {
            return Err(GeometryError::PlaneTooLargeForArgmax { h, w });
        }
        let (oh, ow) = ((ph - fh) / stride + 1, (pw - fw) / stride + 1);
        // an output plane must fit an int64 (the output array's size is
        // checked where it is allocated)
        if !fits(&[oh, ow]) {
            return Err(GeometryError::TooLarge);
        }
        Ok(Self {
            n,
            c,
            h,
            w,
            fh,
            fw,
            stride,
            pad,
            oh,
            ow,
        })
    }

    /// Elements of one input channel plane, `h * w`.
    pub fn in_plane(&self) -> usize {
        self.h * self.w
    }

    /// Output positions per image and channel, `oh * ow`.
    pub fn out_plane(&self) -> usize {
        self.oh * self.ow
    }

    /// Elements of one image, `c * h * w`.
    pub fn image(&self) -> usize {
        self.c * self.in_plane()
    }

    /// Elements of one unrolled patch, `c * fh * fw`.
    pub fn patch(&self) -> usize {
        self.c * self.fh * self.fw
    }

    /// The output positions `o` along one axis whose input coordinate
    /// `o * stride + offset - pad` falls inside `0..size`.
    pub fn valid_outputs(&self, offset: usize, size: usize, outputs: usize) -> std::ops::Range<usize> {
        // o * stride + offset >= pad  and  o * stride + offset < size + pad
        let lo = self.pad.saturating_sub(offset).div_ceil(self.stride);
        let hi = if size + self.pad > offset {
            (size + self.pad - offset).div_ceil(self.stride).min(outputs)
        } else {
            0
        };
        lo.min(hi)..hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_size_and_errors() {
        let g = Window::new([2, 3, 28, 28], 5, 5, 1, 0).unwrap();
        assert_eq!((g.oh, g.ow, g.patch()), (24, 24, 75));
        let g = Window::new([1, 1, 7, 6], 3, 2, 2, 1).unwrap();
        assert_eq!((g.oh, g.ow), (4, 4));
        assert_eq!(
            Window::new([1, 1, 3, 3], 5, 5, 1, 0),
            Err(GeometryError::WindowTooLarge {
                fh: 5,
                fw: 5,
                ph: 3,
                pw: 3
            })
        );
        assert_eq!(Window::new([1, 1, 3, 3], 2, 2, 0, 0), Err(GeometryError::ZeroStride));
        assert_eq!(
            Window::new([1, 1, 3, 3], 0, 2, 1, 0),
            Err(GeometryError::EmptyWindow { fh: 0, fw: 2 })
        );
        assert_eq!(
            Window::new([1, 1, 3, 3], 2, 2, 1, usize::MAX / 2),
            Err(GeometryError::PadOverflow { pad: usize::MAX / 2 })
        );
        // an output plane, or the im2col matrix's rows or columns, beyond an int64
        assert_eq!(
            Window::new([1, 1, 1 << 40, 1 << 40], 1, 1, 1, 0),
            Err(GeometryError::TooLarge)
        );
        assert_eq!(
            Window::new([1 << 40, 1, 1 << 20, 1 << 10], 1, 1, 1, 0),
            Err(GeometryError::TooLarge)
        );
        assert_eq!(
            Window::new([1, 1 << 40, 1, 1], 1, 1 << 30, 1, 1 << 29),
            Err(GeometryError::TooLarge)
        );
        // with nothing to compute, only the sizes that exist must fit
        assert!(Window::new([0, 1, 1 << 20, 1 << 20], 1, 1, 1, 0).is_ok());
        assert_eq!(
            Window::new([1, 1, 1, 1], 1, 1, 1, 1 << 62),
            Err(GeometryError::PadOverflow { pad: 1 << 62 })
        );
        assert_eq!(
            Window::pooling([1, 1, 4, 4], 2, 2, 2, 2),
            Err(GeometryError::PadNotBelowPool { pad: 2, fh: 2, fw: 2 })
        );
        assert_eq!(
            Window::pooling([1, 1, 0, 4], 1, 1, 1, 0),
            Err(GeometryError::WindowTooLarge {
                fh: 1,
                fw: 1,
                ph: 0,
                pw: 4
            })
        );
        assert_eq!(
            Window::pooling([1, 1, 0, 4], 2, 2, 1, 1),
            Err(GeometryError::EmptyPlane)
        );
        assert!(matches!(
            Window::pooling([1, 1, 1 << 16, 1 << 16], 2, 2, 2, 0),
            Err(GeometryError::PlaneTooLargeForArgmax { .. })
        ));
    }

    #[test]
    fn valid_outputs_match_brute_force() {
        for (size, f, stride, pad) in [(7, 3, 1, 1), (7, 3, 2, 1), (5, 5, 1, 2), (6, 2, 3, 0), (4, 3, 2, 2)] {
            let g = Window::new([1, 1, size, size], f, f, stride, pad).unwrap();
            for offset in 0..f {
                let want: Vec<usize> = (0..g.oh)
                    .filter(|&o| {
                        let i = (o * stride + offset) as isize - pad as isize;
                        i >= 0 && i < size as isize
                    })
                    .collect();
                let got: Vec<usize> = g.valid_outputs(offset, size, g.oh).collect();
                assert_eq!(got, want, "size {size} f {f} stride {stride} pad {pad} offset {offset}");
            }
        }
    }
}
