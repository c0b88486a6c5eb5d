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

impl Window {
    /// Check the geometry and compute the output size
    /// `oh = (h + 2 pad - fh) / stride + 1` (likewise `ow`).
    ///
    /// Errors (as messages for the caller to raise): stride 0, an empty
    /// window, or a window larger than the padded input.
    pub fn new(input: [usize; 4], fh: usize, fw: usize, stride: usize, pad: usize) -> Result<Self, String> {
        let [n, c, h, w] = input;
        if stride == 0 {
            return Err("stride must be at least 1, got 0".into());
        }
        if fh == 0 || fw == 0 {
            return Err(format!("window size must be at least 1x1, got ({fh}, {fw})"));
        }
        let padded = |size: usize| pad.checked_mul(2).and_then(|p| p.checked_add(size));
        let (Some(ph), Some(pw)) = (padded(h), padded(w)) else {
            return Err(format!("pad {pad} is too large for x with shape ({n}, {c}, {h}, {w})"));
        };
        if fh > ph || fw > pw {
            return Err(format!(
                "window ({fh}, {fw}) is larger than the padded input ({ph}, {pw}) of x with shape ({n}, {c}, {h}, {w}) \
                 and pad {pad}"
            ));
        }
        let (oh, ow) = ((ph - fh) / stride + 1, (pw - fw) / stride + 1);
        // every size the kernels compute must fit: the input, and the
        // im2col matrix (n*oh*ow, c*fh*fw), the largest of them
        let product = |dims: &[usize]| dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        let fits = product(&[n, c, h, w]).is_some() && product(&[n, oh, ow, c, fh, fw]).is_some();
        if !fits {
            return Err(format!(
                "the arrays for x with shape ({n}, {c}, {h}, {w}), window ({fh}, {fw}) and pad {pad} would be too large"
            ));
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
        assert!(Window::new([1, 1, 3, 3], 5, 5, 1, 0).unwrap_err().contains("(5, 5)"));
        assert!(Window::new([1, 1, 3, 3], 2, 2, 0, 0).is_err());
        assert!(Window::new([1, 1, 3, 3], 0, 2, 1, 0).is_err());
        assert!(Window::new([1, 1, 3, 3], 2, 2, 1, usize::MAX / 2)
            .unwrap_err()
            .contains("too large"));
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
