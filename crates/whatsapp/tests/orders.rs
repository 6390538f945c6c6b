//! Meta's payments in Brazil (issue 15 item 2): the `order_details` message with a dynamic
//! Pix code and the `order_status` message, built by `OutboundMessage` in the shape of the
//! fixtures (fixtures/whatsapp/graph_send_order_*.json), checked by the mock Graph API's rules
//! (which refuse what Meta refuses: wrong offset, sums that do not add up, unknown fields, a
//! fractional quantity, an action name of another message) and sent to it over a socket.

use secrecy::SecretString;
use serde_json::Value;
use whatsapp::graph::{
    GraphClient, GraphConfig, OrderDetails, OrderItem, OrderStatusUpdate, OutboundMessage,
};
use whatsapp::mock::{check_message, MockGraph};

const DETAILS: &str = include_str!("../../../fixtures/whatsapp/graph_send_order_details.json");
const STATUS: &str = include_str!("../../../fixtures/whatsapp/graph_send_order_status.json");

fn fixture(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn details() -> OrderDetails {
    let f = fixture(DETAILS);
    let p = &f["interactive"]["action"]["parameters"];
    OrderDetails {
        to: "5511987654321".into(),
        body: f["interactive"]["body"]["text"].as_str().unwrap().into(),
        reference_id: "ORC-2026-000123".into(),
        goods_type: "physical-goods".into(),
        pix_code: p["payment_settings"][0]["pix_dynamic_code"]["code"]
            .as_str()
            .unwrap()
            .into(),
        merchant_name: "DEPOSITO SAO JORGE".into(),
        pix_key: "12345678000195".into(),
        pix_key_type: "CNPJ".into(),
        items: vec![
            OrderItem {
                retailer_id: "CIM-CP2-50".into(),
                name: "Cimento CP-II 50kg".into(),
                amount_cents: 3990,
                quantity: 10,
            },
            OrderItem {
                retailer_id: "ARE-MED-M3".into(),
                name: "Areia média (2,5 m³)".into(),
                amount_cents: 45000,
                quantity: 1,
            },
        ],
        subtotal_cents: 84900,
        discount_cents: 3950,
        discount_description: Some("Desconto no Pix (5%)".into()),
        shipping_cents: 5000,
        shipping_description: Some("Frete Zona Sul".into()),
        total_cents: 85950,
        expiration: Some((
            1_796_400_000,
            "Orçamento válido até 05/12/2026 18:00".into(),
        )),
    }
}

#[test]
fn order_details_is_the_fixtures_shape_and_the_mock_takes_it() {
    let msg = OutboundMessage::OrderDetails(Box::new(details()));
    msg.validate().unwrap();
    assert_eq!(msg.kind(), "order_details");
    assert_eq!(msg.to_graph_json(), fixture(DETAILS));
    check_message(&fixture(DETAILS)).unwrap();
}

#[test]
fn order_status_is_the_fixtures_shape_and_the_mock_takes_it() {
    let msg = OutboundMessage::OrderStatus(OrderStatusUpdate {
        to: "5511987654321".into(),
        body: "Pagamento do pedido *ORC-2026-000123* recebido. Obrigado!".into(),
        reference_id: "ORC-2026-000123".into(),
        status: "processing".into(),
        description: Some("Pagamento recebido".into()),
    });
    msg.validate().unwrap();
    assert_eq!(msg.to_graph_json(), fixture(STATUS));
    check_message(&fixture(STATUS)).unwrap();
    let mut bad = fixture(STATUS);
    bad["interactive"]["action"]["parameters"]["order"]["status"] = "paid".into();
    assert!(check_message(&bad).is_err(), "not one of Meta's statuses");
    let wrong = OutboundMessage::OrderStatus(OrderStatusUpdate {
        status: "paid".into(),
        ..match msg {
            OutboundMessage::OrderStatus(o) => o,
            _ => unreachable!(),
        }
    });
    assert!(wrong.validate().is_err());
}

#[test]
fn the_mock_refuses_what_meta_refuses_in_an_order() {
    let refused = |edit: &dyn Fn(&mut Value), why: &str| {
        let mut v = fixture(DETAILS);
        edit(&mut v["interactive"]["action"]);
        let r = check_message(&v);
        assert!(r.is_err(), "{why}: accepted");
        r.unwrap_err()
    };
    refused(
        &|a| a["parameters"]["total_amount"]["offset"] = 1000.into(),
        "offset other than 100",
    );
    refused(
        &|a| a["parameters"]["total_amount"]["value"] = 85951.into(),
        "total that does not add up",
    );
    refused(
        &|a| a["parameters"]["order"]["subtotal"]["value"] = 1.into(),
        "subtotal that is not the items' sum",
    );
    refused(
        &|a| a["parameters"]["order"]["items"][1]["quantity"] = 2.5.into(),
        "fractional quantity",
    );
    refused(
        &|a| a["name"] = "review_order".into(),
        "another action's name",
    );
    refused(
        &|a| {
            a["parameters"]["order"]
                .as_object_mut()
                .unwrap()
                .remove("tax");
        },
        "no tax",
    );
    refused(
        &|a| {
            a["parameters"]["payment_settings"][0]["pix_dynamic_code"]["key_type"] = "RANDOM".into()
        },
        "unknown key type",
    );
    refused(
        &|a| a["parameters"]["reference_id"] = "ORC 2026 000123 com espaços".into(),
        "reference_id with spaces",
    );
    refused(
        &|a| a["parameters"]["order"]["expiration"]["timestamp"] = 1796400000.into(),
        "expiration timestamp as a number",
    );
    let unknown = refused(
        &|a| a["parameters"]["pix_key"] = "x".into(),
        "unknown field",
    );
    assert!(unknown.details.contains("pix_key"), "{unknown:?}");
}

#[test]
fn sums_that_do_not_add_up_are_refused_before_the_request() {
    let mut d = details();
    d.total_cents += 1;
    assert!(OutboundMessage::OrderDetails(Box::new(d))
        .validate()
        .is_err());
    let mut d = details();
    d.items[0].quantity = 0;
    assert!(OutboundMessage::OrderDetails(Box::new(d))
        .validate()
        .is_err());
    let mut d = details();
    d.reference_id = "x".repeat(36);
    assert!(OutboundMessage::OrderDetails(Box::new(d))
        .validate()
        .is_err());
}

#[tokio::test]
async fn an_order_details_message_is_sent_to_graph() {
    let mock = MockGraph::start().await;
    let client = GraphClient::new(GraphConfig {
        base_url: mock.url.clone(),
        ..Default::default()
    })
    .unwrap();
    let token = SecretString::from("EAAG-test".to_string());
    let sent = client
        .send(
            "100000000000001",
            &token,
            &OutboundMessage::OrderDetails(Box::new(details())),
            None,
        )
        .await
        .unwrap();
    assert!(sent.wamid.starts_with("wamid."), "{sent:?}");
    let calls = mock.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].body, fixture(DETAILS));
}
