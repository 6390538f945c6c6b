//! Meta's webhook fixtures, made current.

/// A webhook payload with every message's `timestamp` set to now. The customer-service
/// window is measured from Meta's timestamp (issue 18 item 3), so a fixture recorded in 2025
/// would arrive with its window long closed and its conversation ended at once.
pub fn sent_now(raw: &str) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(raw).unwrap_or_else(|e| panic!("fixture is not JSON: {e}"));
    let now = serde_json::Value::String((store::now_ms() / 1000).to_string());
    for entry in v["entry"].as_array_mut().into_iter().flatten() {
        for change in entry["changes"].as_array_mut().into_iter().flatten() {
            let messages = change["value"]["messages"].as_array_mut();
            for m in messages.into_iter().flatten() {
                m["timestamp"] = now.clone();
            }
        }
    }
    v.to_string()
}
