//! Issue 18 item 4, black-box on both engines: a sender Meta identifies only by a
//! business-scoped user id is answered by that id (Graph `recipient`), and one unreadable
//! message in a delivery never sinks the good one beside it.

mod common;

use common::{fixture, TestApp};

testkit::both_engines!(
    TestApp;
    username_only_sender_is_answered_by_user_id,
    mixed_delivery_answers_the_good_message_and_keeps_the_broken_one,
);

const USER: &str = "BR.1502576394655843";

/// `username_only_sender.json`: no `from`, only `from_user_id`. Before, the whole delivery
/// was refused (400) and Meta would have redelivered it for days; now it is stored, the
/// contact is keyed by the user id, and the reply goes to `recipient` (no `to`), which the
/// mock accepts exactly as Meta does. The receipt for that reply (`recipient_user_id`) moves
/// it forward.
async fn username_only_sender_is_answered_by_user_id(app: &TestApp) {
    assert_eq!(
        app.webhook(&common::fixture_sent_now("username_only_sender.json"))
            .await
            .status(),
        200
    );
    app.drain().await;
    let calls = app.graph.calls();
    assert!(!calls.is_empty(), "no reply");
    for c in &calls {
        assert!(c.is_accepted(), "Meta refuses {:?}", c.outcome);
        assert_eq!(c.recipient(), Some(USER), "{:?}", c.body);
        assert_eq!(c.to(), "", "a user id never goes in `to`: {:?}", c.body);
    }
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM contacts WHERE user_id = '{USER}' AND wa_id = '{USER}' AND username = 'renata.obras' AND name = 'Renata'"
        ))
        .await,
        1
    );
    // Meta's receipt for the reply, addressed by user id.
    let wamid = calls[0].wamid().unwrap().to_string();
    let receipt =
        fixture("status_with_user_id.json").replace("wamid.OUT-USER-000000000000000001", &wamid);
    assert_eq!(app.webhook(&receipt).await.status(), 200);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM messages WHERE provider_message_id = '{wamid}' AND status = 'delivered'"
        ))
        .await,
        1
    );
}

/// `mixed_delivery_one_broken.json`: a message without any sender beside a good one. The
/// delivery is answered 200, the good message is stored and answered, the broken one is not
/// stored as a message but is kept in the delivery's raw event for the operator.
async fn mixed_delivery_answers_the_good_message_and_keeps_the_broken_one(app: &TestApp) {
    assert_eq!(
        app.webhook(&common::fixture_sent_now("mixed_delivery_one_broken.json"))
            .await
            .status(),
        200
    );
    app.drain().await;
    let calls = app.graph.calls();
    assert!(!calls.is_empty(), "the good message was not answered");
    for c in &calls {
        assert!(c.is_accepted(), "Meta refuses {:?}", c.outcome);
        assert_eq!(c.to(), "5521998887777");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE provider_message_id = 'wamid.MIXED-GOOD-000000000000002'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE provider_message_id = 'wamid.MIXED-BROKEN-00000000000001'")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_events WHERE outcome = 'accepted' AND payload LIKE '%wamid.MIXED-BROKEN-00000000000001%'")
            .await,
        1
    );
}
