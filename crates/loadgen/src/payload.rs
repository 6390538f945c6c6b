//! Signed webhook deliveries, one new message each, exactly as Meta would send them.

use whatsapp::signature::sign;
use whatsapp::webhook::build_text_webhook;

pub const DEMO_PHONE_NUMBER_ID: &str = "100000000000001";
const DEMO_DISPLAY_NUMBER: &str = "5511933334444";

pub struct Payloads {
    app_secret: Vec<u8>,
    run_id: u32,
    text: String,
    timestamp: i64,
}

pub struct Delivery {
    pub wa_id: String,
    pub body: String,
    pub signature: String,
}

impl Payloads {
    /// `run_id` keeps wa_ids and wamids of different runs apart on one database.
    pub fn new(app_secret: &str, run_id: u32, text: &str) -> Payloads {
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Payloads {
            app_secret: app_secret.as_bytes().to_vec(),
            run_id: run_id % 100,
            text: text.to_string(),
            timestamp,
        }
    }

    /// The wa_id of contact `n`: 13 digits, 55 + run + sequence (Meta's wa_ids are digits).
    pub fn wa_id(&self, n: u64) -> String {
        format!("55{:02}{:09}", self.run_id, n % 1_000_000_000)
    }

    /// Message `seq` from contact `contact`; every `seq` gives a new wamid.
    pub fn delivery(&self, contact: u64, seq: u64) -> Delivery {
        self.delivery_to(DEMO_PHONE_NUMBER_ID, contact, seq, &self.text)
    }

    /// [`Payloads::delivery`] to another store's number, with its own text.
    pub fn delivery_to(
        &self,
        phone_number_id: &str,
        contact: u64,
        seq: u64,
        text: &str,
    ) -> Delivery {
        let wa_id = self.wa_id(contact);
        let wamid = format!("wamid.LOAD{:02}{:012}", self.run_id, seq);
        let body = build_text_webhook(
            phone_number_id,
            DEMO_DISPLAY_NUMBER,
            &wa_id,
            Some("Cliente Carga"),
            &wamid,
            text,
            self.timestamp,
        );
        let signature = sign(&self.app_secret, body.as_bytes());
        Delivery {
            wa_id,
            body,
            signature,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use whatsapp::signature::verify_signature;
    use whatsapp::webhook::{parse_webhook, WebhookEvent};

    #[test]
    fn delivery_is_signed_and_parses_as_a_text_message() {
        let p = Payloads::new("segredo", 7, "oi, bom dia");
        let d = p.delivery(42, 1234);
        assert!(verify_signature(b"segredo", d.body.as_bytes(), Some(&d.signature)).is_ok());
        let events = parse_webhook(d.body.as_bytes()).expect("parses");
        let WebhookEvent::Message(m) = &events[0] else {
            panic!("not a message: {events:?}");
        };
        assert_eq!(m.from, "5507000000042");
        assert_eq!(m.phone_number_id, DEMO_PHONE_NUMBER_ID);
        assert_eq!(m.wamid, "wamid.LOAD07000000001234");
    }

    #[test]
    fn runs_and_sequences_give_distinct_ids() {
        let a = Payloads::new("s", 1, "x").delivery(1, 1);
        let b = Payloads::new("s", 2, "x").delivery(1, 1);
        let c = Payloads::new("s", 1, "x").delivery(1, 2);
        assert_ne!(a.wa_id, b.wa_id);
        assert_ne!(a.body, c.body);
    }
}
