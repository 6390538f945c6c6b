//! The QR image of a copia-e-cola, for the quote PDF and the public quote page.
//!
//! No image stack: the PDF draws the module grid as vector squares (sharp on paper at any
//! size) and the page embeds the SVG. Error correction M, as banks print PIX codes: it
//! survives a crease or a smudge without making the code much denser.

use qrcode::{Color, EcLevel, QrCode};

/// A square grid of modules; `true` is dark. The quiet zone is not included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrModules {
    width: usize,
    dark: Vec<bool>,
}

impl QrModules {
    pub fn width(&self) -> usize {
        self.width
    }

    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }
}

/// Encodes `payload` (a copia-e-cola: ASCII, a few hundred bytes at most). `None` only if it
/// does not fit a QR code at all, which a valid BR Code always does.
pub fn modules(payload: &str) -> Option<QrModules> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    Some(QrModules { width, dark })
}

/// The QR as a standalone SVG document (with its quiet zone), at least `min_px` wide.
pub fn svg(payload: &str, min_px: u32) -> Option<String> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(min_px, min_px)
            .quiet_zone(true)
            .build(),
    )
}
