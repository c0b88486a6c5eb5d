//! How a batch is cut into work for the Winograd passes, and moving data
//! between NCHW planes and the lane-interleaved arrays the transforms read.
//!
//! * The output planes are cut into `m x m` tiles, `tiles_y x tiles_x` per
//!   image; tile `(ty, tx)` reads the `(m + 2) x (m + 2)` window of the
//!   padded input at row `ty * m`, column `tx * m`.
//! * The images are split into *groups* of at most [`LANES`]: the transforms
//!   work on the same tile of every image of a group at once, one image per
//!   SIMD lane. To make that a plain vector load, each group's input rows
//!   are first *interleaved*, `(rows, cols, LANES)` with the image innermost.
//! * A *block* is a range of groups and a range of tile rows (all of them
//!   when several groups fit), sized so its transformed arrays stay in a
//!   core's cache; threads claim blocks. A *part* is one group's share of a
//!   block.
//! * Transformed arrays are `(a*a, channels, columns)`, one `channels x
//!   columns` matrix per transformed position; in a part of `count` images
//!   whose columns start at `col0`, tile `i` (row-major over the part's
//!   tiles) of lane `l` is column `col0 + i * count + l`. Writing all
//!   `LANES` lanes of a tile at column `col0 + i * count` is then allowed
//!   when tiles and parts go in order: the next tile (or part) overwrites
//!   the unused lanes, and rows keep `LANES` spare columns for the last one.

use super::transpose::interleave;
use crate::kernels::float::Float;
use crate::kernels::geometry::Window;

/// Images (or filters) transformed together, one per SIMD lane.
pub const LANES: usize = 16;

/// The tile size: F(2x2, 3x3) or F(4x4, 3x3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TileSize {
    F2,
    F4,
}

impl TileSize {
    /// Outputs per tile side, `m`.
    pub fn m(self) -> usize {
        match self {
            Self::F2 => 2,
            Self::F4 => 4,
        }
    }

    /// Inputs per tile side, `a = m + 2`.
    pub fn a(self) -> usize {
        self.m() + 2
    }
}

/// The tiles and blocks of one convolution (geometry `g`, 3x3 filters,
/// stride 1).
#[derive(Clone, Copy, Debug)]
pub(super) struct Tiling {
    pub size: TileSize,
    pub g: Window,
    /// Tiles per image down and across: `ceil(oh / m)`, `ceil(ow / m)`.
    pub tiles_y: usize,
    pub tiles_x: usize,
    /// Columns of the padded input the tiles read, `tiles_x * m + 2`
    /// (at least `w + 2 pad`).
    pub pw: usize,
    /// Groups of images (at most `LANES` each, sizes differing by at most 1).
    pub groups: usize,
    /// Tile rows per block.
    pub rows: usize,
    /// Groups per block (1 unless a block holds all tile rows).
    pub span: usize,
}

/// One block: groups `g0 .. g1`, tile rows `ty0 .. ty1`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Block {
    pub g0: usize,
    pub g1: usize,
    pub ty0: usize,
    pub ty1: usize,
}

/// One group's share of a block: images `first .. first + count`, tile
/// rows `ty0 .. ty1`, columns from `col0`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Part {
    pub first: usize,
    pub count: usize,
    pub ty0: usize,
    pub ty1: usize,
    pub col0: usize,
}

impl Tiling {
    /// Blocks of at most about `budget` bytes of transformed tiles, for
    /// `channels` (input plus output) channels of `elem`-byte elements, and
    /// at least `per_thread` blocks per thread when the tiles allow.
    pub fn new(
        g: &Window,
        size: TileSize,
        channels: usize,
        elem: usize,
        budget: usize,
        threads: usize,
        per_thread: usize,
    ) -> Self {
        debug_assert!(g.fh == 3 && g.fw == 3 && g.stride == 1);
        let m = size.m();
        let (tiles_y, tiles_x) = (g.oh.div_ceil(m), g.ow.div_ceil(m));
        let groups = g.n.div_ceil(LANES);
        let row_bytes = (size.a() * size.a() * channels * elem * tiles_x * LANES).max(1);
        let wanted = if threads > 1 { per_thread * threads } else { 1 };
        // tile rows: as many as fit, split further when the groups alone give too few blocks
        let rows = (budget / row_bytes)
            .clamp(1, tiles_y.max(1))
            .min(tiles_y.div_ceil(wanted.div_ceil(groups)).max(1));
        let span = if rows == tiles_y {
            let fit = (budget / (row_bytes * tiles_y.max(1))).max(1);
            fit.min(groups.div_ceil(wanted)).max(1)
        } else {
            1
        };
        Self {
            size,
            g: *g,
            tiles_y,
            tiles_x,
            pw: tiles_x * m + 2,
            groups,
            rows,
            span,
        }
    }

    fn row_blocks(&self) -> usize {
        self.tiles_y.div_ceil(self.rows)
    }

    pub fn blocks(&self) -> usize {
        self.groups.div_ceil(self.span) * self.row_blocks()
    }

    pub fn block(&self, i: usize) -> Block {
        let (groups, rows) = (i / self.row_blocks(), i % self.row_blocks());
        let ty0 = rows * self.rows;
        Block {
            g0: groups * self.span,
            g1: ((groups + 1) * self.span).min(self.groups),
            ty0,
            ty1: (ty0 + self.rows).min(self.tiles_y),
        }
    }

    /// Images `(first, count)` of group `i`.
    fn group(&self, i: usize) -> (usize, usize) {
        let (base, extra) = (self.g.n / self.groups, self.g.n % self.groups);
        (i * base + i.min(extra), base + usize::from(i < extra))
    }

    /// The parts of block `b`, in column order.
    pub fn parts(&self, b: &Block) -> impl Iterator<Item = Part> + '_ {
        let tiles = (b.ty1 - b.ty0) * self.tiles_x;
        let (ty0, ty1) = (b.ty0, b.ty1);
        let mut col0 = 0;
        (b.g0..b.g1).map(move |i| {
            let (first, count) = self.group(i);
            let part = Part {
                first,
                count,
                ty0,
                ty1,
                col0,
            };
            col0 += tiles * count;
            part
        })
    }

    /// Columns of block `b`'s transformed matrices.
    pub fn columns(&self, b: &Block) -> usize {
        self.parts(b).map(|p| p.columns(self)).sum()
    }

    /// Columns of a block's transformed matrices, at most (full groups).
    pub fn max_columns(&self) -> usize {
        self.span * self.rows * self.tiles_x * LANES
    }

    /// Elements of a block's interleaved padded input rows.
    pub fn input_rows_len(&self) -> usize {
        (self.rows * self.size.m() + 2) * self.pw * LANES
    }

    /// Elements of a block's interleaved output-gradient rows.
    pub fn output_rows_len(&self) -> usize {
        self.rows * self.size.m() * self.tiles_x * self.size.m() * LANES
    }
}

impl Part {
    pub fn tiles(&self, t: &Tiling) -> usize {
        (self.ty1 - self.ty0) * t.tiles_x
    }

    pub fn columns(&self, t: &Tiling) -> usize {
        self.tiles(t) * self.count
    }
}

/// The padded input rows of channel `c` that part `b`'s tiles read,
/// interleaved: `rows (yy, xx, LANES)`, `yy` from padded row `ty0 * m`,
/// `xx` over the `pw` padded columns; `x` is the batch `(n, c, h, w)`.
/// Lanes past the part's images repeat its first image (their transforms
/// are computed and then overwritten, see the module notes).
#[inline(always)]
pub(super) fn interleave_inputs<T: Float>(x: &[T], t: &Tiling, b: &Part, c: usize, rows: &mut [T]) {
    let g = &t.g;
    let m = t.size.m();
    let width = t.pw * LANES;
    let count = (b.ty1 - b.ty0) * m + 2;
    for (yy, row) in rows.chunks_exact_mut(width).take(count).enumerate() {
        let y = b.ty0 * m + yy; // padded row
        if y < g.pad || y - g.pad >= g.h {
            row.fill(T::ZERO);
            continue;
        }
        row[..g.pad * LANES].fill(T::ZERO);
        row[(g.pad + g.w) * LANES..].fill(T::ZERO);
        // row y - pad of channel c of each image (lanes past the block's images repeat the first)
        let src = |l: usize| {
            let image = b.first + if l < b.count { l } else { 0 };
            &x[(image * g.c + c) * g.in_plane() + (y - g.pad) * g.w..][..g.w]
        };
        let mut sources: [&[T]; LANES] = [&[]; LANES];
        for (l, source) in sources.iter_mut().enumerate() {
            *source = src(l);
        }
        interleave(&sources, g.w, &mut row[g.pad * LANES..(g.pad + g.w) * LANES]);
    }
}

/// The rows of channel `k` of `dout (n, fn, oh, ow)` under part `b`'s
/// tiles, interleaved: `rows (yy, xx, LANES)` over `(ty1 - ty0) * m` rows
/// and `tiles_x * m` columns, zero past the plane's edge; lanes past the
/// part's images repeat its first. Returns the sum of the part's `dout`
/// elements per lane.
#[inline(always)]
pub(super) fn interleave_output_grads<T: Float>(
    dout: &[T],
    filters: usize,
    t: &Tiling,
    b: &Part,
    k: usize,
    rows: &mut [T],
) -> [T; LANES] {
    let g = &t.g;
    let m = t.size.m();
    let width = t.tiles_x * m * LANES;
    let mut sums = [T::ZERO; LANES];
    for (yy, row) in rows.chunks_exact_mut(width).take((b.ty1 - b.ty0) * m).enumerate() {
        let y = b.ty0 * m + yy;
        if y >= g.oh {
            row.fill(T::ZERO);
            continue;
        }
        row[g.ow * LANES..].fill(T::ZERO);
        // row y of channel k of each image (lanes past the block's images repeat the first)
        let src = |l: usize| {
            let image = b.first + if l < b.count { l } else { 0 };
            &dout[(image * filters + k) * g.out_plane() + y * g.ow..][..g.ow]
        };
        let mut sources: [&[T]; LANES] = [&[]; LANES];
        for (l, source) in sources.iter_mut().enumerate() {
            *source = src(l);
        }
        interleave(&sources, g.ow, row);
        for lanes in row.chunks_exact(LANES).take(g.ow) {
            for (sum, &v) in sums.iter_mut().zip(lanes) {
                *sum += v;
            }
        }
    }
    sums
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_every_image_and_tile_row_once() {
        for (n, oh, budget, threads, size) in [
            (1, 3, 0, 1, TileSize::F2),
            (100, 28, 1 << 20, 2, TileSize::F4),
            (17, 9, 0, 1, TileSize::F4),
            (100, 8, 1 << 22, 1, TileSize::F4),
            (40, 8, 1 << 22, 2, TileSize::F2),
        ] {
            let g = Window::new([n, 1, oh, oh], 3, 3, 1, 1).unwrap();
            let t = Tiling::new(&g, size, 2, 4, budget, threads, 2);
            let mut hits = vec![0; n * t.tiles_y];
            for i in 0..t.blocks() {
                let b = t.block(i);
                assert!(b.g0 < b.g1 && b.ty0 < b.ty1);
                let mut col = 0;
                for p in t.parts(&b) {
                    assert!(p.count >= 1 && p.count <= LANES);
                    assert_eq!(p.col0, col);
                    col += p.columns(&t);
                    for image in p.first..p.first + p.count {
                        for ty in p.ty0..p.ty1 {
                            hits[image * t.tiles_y + ty] += 1;
                        }
                    }
                }
                assert_eq!(t.columns(&b), col);
                assert!(col <= t.max_columns());
            }
            assert!(hits.iter().all(|&h| h == 1), "n {n} oh {oh} budget {budget}");
            assert!(t.pw >= g.w + 2 * g.pad);
        }
    }
}
