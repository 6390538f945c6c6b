//! The EMV MPM wire format the BR Code uses: `ID (2 digits) + length (2 digits) + value`,
//! nested for templates, closed by a CRC16-CCITT-FALSE over everything up to and including
//! `6304` (the CRC field's own ID and length). Manual do BR Code, sections 1.5 and 1.6.

/// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor), the checksum
/// the Central Bank's BR Code manual prescribes. Its check value is `29B1` for `123456789`.
pub fn crc16_ccitt_false(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in bytes {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Builds one payload field by field. Values are ASCII and at most 99 bytes (the length
/// has two digits); the callers' types guarantee both, so a violation is a bug here.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    pub fn field(&mut self, id: u8, value: &str) -> &mut Writer {
        assert!(id < 100, "EMV ids have two digits");
        assert!(value.is_ascii(), "EMV values are ASCII");
        assert!(value.len() <= 99, "EMV values are at most 99 bytes");
        self.out
            .push_str(&format!("{id:02}{:02}{value}", value.len()));
        self
    }

    /// A template (e.g. 26, 62): its fields written by `inner`, then wrapped as one value.
    pub fn template(&mut self, id: u8, inner: impl FnOnce(&mut Writer)) -> &mut Writer {
        let mut w = Writer::new();
        inner(&mut w);
        let value = w.out;
        self.field(id, &value)
    }

    /// Appends the CRC field (ID 63) and returns the finished payload.
    pub fn finish_with_crc(mut self) -> String {
        self.out.push_str("6304");
        let crc = crc16_ccitt_false(self.out.as_bytes());
        self.out.push_str(&format!("{crc:04X}"));
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_value_of_the_ccitt_false_catalogue_entry() {
        assert_eq!(crc16_ccitt_false(b"123456789"), 0x29B1);
    }

    #[test]
    fn writer_pads_lengths_to_two_digits_and_nests_templates() {
        let mut w = Writer::new();
        w.field(0, "01").template(26, |t| {
            t.field(0, "abc");
        });
        let out = w.finish_with_crc();
        assert_eq!(&out[..21], "00020126070003abc6304");
        assert_eq!(out.len(), 25);
        let crc = crc16_ccitt_false(&out.as_bytes()[..21]);
        assert_eq!(&out[21..], format!("{crc:04X}"));
    }
}
