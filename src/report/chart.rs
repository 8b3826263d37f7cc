//! The timeline chart, drawn once with `plotters` on two backends: SVG
//! (text, for a browser or a document) and PNG (a picture, for a mail or
//! a slide). The same report gives the same bytes for both.
//!
//! Text is laid out with an embedded font (`assets/fonts/DejaVuSansMono.ttf`,
//! Bitstream Vera licence, beside it) through plotters' `ab_glyph` backend:
//! no system font, no fontconfig or freetype to install, and the PNG is
//! the same on every machine. The PNG is written here (one IDAT chunk
//! compressed with `flate2`, which the hub already uses); the `png` crate
//! would bring a second `miniz_oxide` into the tree for these few lines.
//!
//! Four series per minute: viewers, messages, questions, add-to-cart. A
//! withheld minute (fewer than k viewers) breaks its line: nothing is drawn
//! that the report does not publish.

use std::io::Write as _;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Report, Shown};

/// The chart's size in pixels (the SVG's too).
pub const SIZE: (u32, u32) = (960, 360);

/// The eight bytes every PNG starts with.
pub const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");

/// Why no chart was drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChartError {
    #[error("the chart's embedded font does not load")]
    Font,
    #[error("the chart could not be drawn: {0}")]
    Draw(String),
}

/// The font plotters lays text out with, registered once per process.
fn font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok()
    });
    if ok { Ok(()) } else { Err(ChartError::Font) }
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "map_err hands the error over"
)]
fn failed<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> ChartError {
    ChartError::Draw(e.to_string())
}

/// The timeline as an SVG document.
pub fn svg(report: &Report) -> Result<String, ChartError> {
    font()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        draw(&root, report).map_err(failed)?;
        root.present().map_err(failed)?;
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// The timeline as a PNG picture (8-bit RGB).
pub fn png(report: &Report) -> Result<Vec<u8>, ChartError> {
    font()?;
    let (w, h) = SIZE;
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        draw(&root, report).map_err(failed)?;
        root.present().map_err(failed)?;
    }
    encode_png(&rgb, w, h).map_err(|e| ChartError::Draw(format!("PNG encoding: {e}")))
}

/// The minutes a series publishes, as runs of consecutive shown minutes.
fn runs(values: impl Iterator<Item = Shown>) -> Vec<Vec<(u64, u64)>> {
    let mut out: Vec<Vec<(u64, u64)>> = vec![Vec::new()];
    for (minute, v) in (0u64..).zip(values) {
        match (v, out.last_mut()) {
            (Some(v), Some(run)) => run.push((minute, v)),
            (None, Some(run)) if !run.is_empty() => out.push(Vec::new()),
            _ => {}
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

type Series = (&'static str, RGBColor, Vec<Vec<(u64, u64)>>);

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    report: &Report,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let t = &report.timeline;
    let series: [Series; 4] = [
        (
            "viewers",
            RGBColor(31, 119, 180),
            runs(t.iter().map(|m| m.viewers)),
        ),
        (
            "messages",
            RGBColor(255, 127, 14),
            runs(t.iter().map(|m| m.messages)),
        ),
        (
            "questions",
            RGBColor(44, 160, 44),
            runs(t.iter().map(|m| m.questions)),
        ),
        (
            "add-to-cart",
            RGBColor(148, 103, 189),
            runs(t.iter().map(|m| m.add_to_cart)),
        ),
    ];
    let top = series
        .iter()
        .flat_map(|(_, _, runs)| runs.iter().flatten().map(|&(_, v)| v))
        .max()
        .unwrap_or(0)
        .max(1);
    let last_minute = (t.len() as u64).saturating_sub(1).max(1);

    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Per minute (a gap: fewer than k viewers behind the figure)",
            ("sans-serif", 16),
        )
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0u64..last_minute, 0u64..top + top / 10 + 1)?;
    chart
        .configure_mesh()
        .x_desc("minute of the live")
        .y_desc("count")
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    for (name, colour, runs) in series {
        let style = colour.stroke_width(2);
        // An empty series carries the legend, shown even when every minute
        // of this one is withheld.
        chart
            .draw_series(LineSeries::new(std::iter::empty(), style))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        for run in runs {
            chart.draw_series(LineSeries::new(run, style).point_size(2))?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// An 8-bit RGB picture as a PNG: signature, `IHDR`, one `IDAT` (filter
/// type 0 on every row, zlib-compressed), `IEND` (ISO/IEC 15948).
fn encode_png(rgb: &[u8], width: u32, height: u32) -> std::io::Result<Vec<u8>> {
    let stride = width as usize * 3;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    for row in rgb.chunks_exact(stride) {
        z.write_all(&[0])?;
        z.write_all(row)?;
    }
    let idat = z.finish()?;
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, colour type 2 (RGB), deflate, filter method 0, no interlace.
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = PNG_SIGNATURE.to_vec();
    for (kind, data) in [
        (b"IHDR", &ihdr[..]),
        (b"IDAT", &idat[..]),
        (b"IEND", &[][..]),
    ] {
        let len = u32::try_from(data.len())
            .map_err(|_| std::io::Error::other("a PNG chunk over 4 GiB"))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_withheld_minute_breaks_the_line() {
        let r = runs([Some(1), Some(2), None, Some(4), None, None].into_iter());
        assert_eq!(r, vec![vec![(0, 1), (1, 2)], vec![(3, 4)]]);
        assert!(runs([None, None].into_iter()).is_empty());
    }
}
