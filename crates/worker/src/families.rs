//! The worker's metric families, registered at start-up with zero values for every known
//! label value (issue 14 item 4): an alert or a dashboard panel on a series that has not
//! appeared yet can never fire, and `rate()` needs a zero before the first increment.

use whatsapp::graph::ACCOUNT_LEVEL_CODES;

/// Job kinds as labelled on the metrics (`runner::kind_label`).
pub const KINDS: [&str; 9] = [
    crate::ADVANCE_JOB,
    crate::SEND_JOB,
    crate::QUOTE_EXPIRE_JOB,
    crate::WINDOW_EXPIRE_JOB,
    crate::TEMPLATE_SUBMIT_JOB,
    crate::TEMPLATE_SYNC_JOB,
    crate::FOLLOW_UP_JOB,
    crate::EMAIL_JOB,
    "other",
];

/// Outcomes of a job as labelled on `orcazap_jobs_total` (`Worker::record`).
const JOB_OUTCOMES: [&str; 4] = ["ok", "retry", "waiting", "dead"];

/// Registers every worker family: the job counters and durations, the queue gauges, the
/// Graph API sends, quotes and their approval reasons, blocked numbers, refused payloads.
/// Call once, after the recorder is installed and before the first scrape.
pub fn register() {
    for kind in KINDS {
        for outcome in JOB_OUTCOMES {
            metrics::counter!("orcazap_jobs_total", "kind" => kind, "outcome" => outcome)
                .absolute(0);
        }
        let _ = metrics::histogram!("orcazap_job_duration_seconds", "kind" => kind);
    }
    zero_queue_gauges(&[]);
    metrics::counter!("orcazap_graph_requests_total", "outcome" => "ok", "code" => "none")
        .absolute(0);
    let _ = metrics::histogram!("orcazap_graph_request_duration_seconds");
    for outcome in ["approval", "auto_sent", "won", "lost"] {
        metrics::counter!("orcazap_quotes_total", "outcome" => outcome).absolute(0);
    }
    for reason in domain::pricing::ApprovalReason::ALL {
        metrics::counter!("orcazap_quote_approval_reasons_total", "reason" => reason.code())
            .absolute(0);
    }
    for code in ACCOUNT_LEVEL_CODES {
        metrics::counter!("orcazap_whatsapp_channel_blocked_total", "code" => code.to_string())
            .absolute(0);
    }
    for kind in ["text", "buttons", "cta_url"] {
        metrics::counter!("orcazap_outbound_invalid_total", "kind" => kind).absolute(0);
    }
    // The window decision for messages the store starts (`worker::proactive`).
    for outcome in ["free_form", "template", "held_window", "held_opt_out"] {
        metrics::counter!("orcazap_proactive_messages_total", "outcome" => outcome).absolute(0);
    }
    for change in ["out", "in"] {
        metrics::counter!("orcazap_opt_outs_total", "change" => change).absolute(0);
    }
    for outcome in ["ok", "failed"] {
        metrics::counter!("orcazap_read_receipts_total", "outcome" => outcome).absolute(0);
    }
    // Voice notes and photos (issue 16).
    crate::media::register_metrics();
    // E-mail of the outbox (`worker::email`).
    for kind in crate::email::KINDS {
        for outcome in crate::email::OUTCOMES {
            metrics::counter!("orcazap_emails_total", "kind" => kind, "outcome" => outcome)
                .absolute(0);
        }
    }
    // Delivery-address CEP look-ups (`worker::cep`).
    for outcome in ["found", "unknown", "error"] {
        metrics::counter!("orcazap_cep_lookups_total", "outcome" => outcome).absolute(0);
    }
    // The optional language model (`worker::assistant`), on or off.
    crate::assistant::register_metrics(0);
}

/// Sets the queue gauges of every kind not in `seen` to zero: the statistics list only kinds
/// with unfinished jobs, so a kind whose queue emptied must be zeroed, not left at its last
/// value.
pub fn zero_queue_gauges(seen: &[&str]) {
    for kind in KINDS.iter().filter(|k| !seen.contains(k)) {
        metrics::gauge!("orcazap_queue_ready_jobs", "kind" => *kind).set(0.0);
        metrics::gauge!("orcazap_queue_dead_jobs", "kind" => *kind).set(0.0);
        metrics::gauge!("orcazap_queue_oldest_ready_age_seconds", "kind" => *kind).set(0.0);
    }
}
