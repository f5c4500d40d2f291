//! The PNG of a saved chart: its SVG (`super::counts`), drawn by resvg with the system's
//! fonts, at twice the size for print. Nothing is drawn that the SVG does not say, and the
//! PNG carries pixels only (no text chunks).

use std::sync::Arc;

use resvg::{tiny_skia, usvg};

use crate::error::{Error, Result};

/// The largest image drawn (about 160 MB of pixels).
const MAX_PIXELS: u64 = 40_000_000;

/// Draws `svg` as a PNG.
pub(super) fn rasterise(svg: &str) -> Result<Vec<u8>> {
    let mut fonts = usvg::fontdb::Database::new();
    fonts.load_system_fonts();
    let opts = usvg::Options {
        fontdb: Arc::new(fonts),
        ..Default::default()
    };
    let failed = |e: String| Error::invalid("chart", format!("the chart could not be drawn: {e}"));
    let tree = usvg::Tree::from_str(svg, &opts).map_err(|e| failed(e.to_string()))?;
    let scale = 2.0;
    let size = tree.size();
    let (w, h) = (
        (size.width() * scale).ceil() as u32,
        (size.height() * scale).ceil() as u32,
    );
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(failed(
            "it would be too large an image: save it as SVG or CSV".into(),
        ));
    }
    let mut pixmap =
        tiny_skia::Pixmap::new(w.max(1), h.max(1)).ok_or_else(|| failed("too large".into()))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| failed(e.to_string()))
}
