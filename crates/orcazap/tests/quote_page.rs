//! The public quote page (issue 15 item 3), black box on SQLite and PostgreSQL: with the
//! store's link on, the quote message is followed by a `cta_url` button; its URL opens a page
//! (no login) with every figure of the quote's snapshot, the PIX code and its QR, and the PDF;
//! a tampered link is a 404, an expired one or one outlived by a newer version a 410 in pt-BR,
//! and a link never shows another store's data.

mod common;

use base64::Engine as _;
use common::{text_webhook, TestApp};
use domain::pricing::PricedQuote;
use store::quote_link::{self, LinkClaims};

testkit::both_engines!(
    TestApp;
    the_link_button_opens_a_page_with_every_figure_and_the_pdf,
    tampered_and_foreign_links_are_not_found,
    an_expired_link_is_gone,
    a_newer_version_kills_the_old_link,
    no_link_while_the_setting_is_off,
);

const CUSTOMER: &str = "5511944440000";
const ORDER: &str = "bom dia, preciso de 10 sacos de cimento e 2 metros de areia média, entrega amanhã no Grajaú, pago no pix";

async fn turn_link_on(app: &TestApp) {
    let t = app.demo_tenant().await;
    let mut c = app.db.write().acquire().await.unwrap();
    store::store_profile::set_quote_link(&mut c, &t.id, true)
        .await
        .unwrap();
}

/// The quote's number and the link the customer received, after the order went through.
async fn order_and_link(app: &TestApp, wamid: &str, text: &str) -> (String, String) {
    app.webhook(&text_webhook(CUSTOMER, wamid, text)).await;
    app.drain().await;
    let calls = app.graph.accepted();
    let (i, link) = calls
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, c)| {
            c.cta_url()
                .map(|(label, url)| (i, (label.to_string(), url.to_string())))
        })
        .expect("a cta_url message went out");
    let quote = &calls[i - 1];
    assert!(
        quote.is_interactive(),
        "the quote comes right before its link"
    );
    let number = quote.text()[quote.text().find("ORC-").expect("number")..][..15].to_string();
    assert_eq!(link.0, "Ver orçamento");
    assert!(calls[i].text().contains(&number), "{}", calls[i].text());
    (number, link.1)
}

/// GET of a path on the public site (`localhost:PORT`): status, headers, body bytes.
async fn get(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = reqwest::Client::new()
        .get(app.url(path))
        .header("host", format!("localhost:{}", app.addr.port()))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

fn path_of(app: &TestApp, url: &str) -> String {
    let prefix = format!("http://localhost:{}", app.addr.port());
    url.strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{url} is not on the public site {prefix}"))
        .to_string()
}

async fn quote_row(app: &TestApp, number: &str) -> store::quotes::Quote {
    let t = app.demo_tenant().await;
    let mut c = app.db.read().acquire().await.unwrap();
    store::quotes::by_number(&mut c, &t.id, number)
        .await
        .unwrap()
        .unwrap()
}

/// The page as a person reads it (the HTML escaper writes `/` as `&#x2f;`).
fn html(body: &[u8]) -> String {
    String::from_utf8(body.to_vec())
        .unwrap()
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

async fn the_link_button_opens_a_page_with_every_figure_and_the_pdf(app: &TestApp) {
    turn_link_on(app).await;
    let (number, url) = order_and_link(app, "wamid.P1", ORDER).await;
    let path = path_of(app, &url);
    assert!(path.starts_with("/q/"), "{path}");
    // The message row shows the link in the transcript and keeps its URL (a retry reuses it).
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM messages WHERE kind = 'cta_url' AND status = 'sent' AND payload_json LIKE '%{}%'",
            &path[3..]
        ))
        .await,
        1
    );

    let (status, headers, body) = get(app, &path).await;
    assert_eq!(status, 200);
    let page = html(&body);
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(headers["x-robots-tag"]
        .to_str()
        .unwrap()
        .contains("noindex"));

    // Every figure of the snapshot, formatted as the quote message formats it.
    let quote = quote_row(app, &number).await;
    let q: PricedQuote = serde_json::from_str(&quote.snapshot_json).unwrap();
    let mut expected = vec![
        "Depósito".to_string(),
        number.clone(),
        q.subtotal.to_brl(),
        format!("-{}", q.payment_discount.to_brl()),
        q.total.to_brl(),
        "Válido até".to_string(),
        "12.345.678/0001-95".to_string(),
    ];
    assert!(
        q.payment_discount.0 > 0,
        "the order pays by PIX: a discount"
    );
    expected.push(q.freight.expect("Grajaú has a freight rule").to_brl());
    for l in &q.lines {
        expected.push(l.name.clone());
        expected.push(format!("{} {}", l.quantity.to_br(), l.unit.label()));
        expected.push(l.unit_price.to_brl());
        expected.push(l.line_total.to_brl());
    }
    for e in &expected {
        assert!(
            page.contains(e.as_str()),
            "{e:?} missing from the page:\n{page}"
        );
    }
    let code = testkit::between(
        &page,
        "readonly rows=\"5\" spellcheck=\"false\">",
        "</textarea>",
    )
    .expect("the PIX code in a selectable box")
    .to_string();
    let fields = common::pix_fields(&code);
    assert_eq!(
        fields["54"],
        format!("{}.{:02}", q.total.0 / 100, q.total.0 % 100)
    );
    assert!(fields["62"].ends_with(domain::pix::Txid::from_quote_number(&number).as_str()));
    // The copy button waits for the script (without JavaScript the code is selectable text).
    assert!(
        page.contains("id=\"copy-pix\" hidden>Copiar código PIX"),
        "{page}"
    );
    assert!(page.contains("<script src=\"/static/quote.js"));
    // The QR image is the QR of exactly that code (whose decoding is tested in domain::pix).
    let qr_b64 =
        testkit::between(&page, "src=\"data:image/svg+xml;base64,", "\"").expect("the QR image");
    let svg = base64::engine::general_purpose::STANDARD
        .decode(qr_b64)
        .unwrap();
    assert_eq!(
        String::from_utf8(svg).unwrap(),
        domain::pix::qr::svg(&code, 240).unwrap()
    );

    // The PDF, from the same token.
    let pdf_path = format!("{path}/pdf");
    assert!(page.contains(&format!("href=\"{pdf_path}\"")));
    let (status, headers, pdf) = get(app, &pdf_path).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/pdf");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains(&format!("Orcamento-{number}.pdf")));
    if let Some(text) = store::testing::pdf_text(&pdf) {
        let joined: String = text.split_whitespace().collect();
        // pdftotext reads the non-breaking space of "R$ 661,05" back as a plain one.
        let total = q.total.to_brl().replace('\u{a0}', " ");
        for figure in [number.as_str(), total.as_str()] {
            assert!(
                text.contains(figure),
                "{figure} missing from the PDF:\n{text}"
            );
        }
        // Wrapped over lines there: joined again it is the same code.
        let code: String = code.split_whitespace().collect();
        assert!(joined.contains(&code), "the PIX code in the PDF:\n{text}");
    }
}

async fn tampered_and_foreign_links_are_not_found(app: &TestApp) {
    turn_link_on(app).await;
    let (number, url) = order_and_link(app, "wamid.P2", ORDER).await;
    let path = path_of(app, &url);
    let token = &path[3..];
    let (payload, tag) = token.split_once('.').unwrap();
    // One character of the signature changed (not the last: it may carry padding bits only).
    let at = tag.len() / 2;
    let flipped = if &tag[at..=at] == "A" { "B" } else { "A" };
    let mut bad_tag = tag.to_string();
    bad_tag.replace_range(at..=at, flipped);
    let quote = quote_row(app, &number).await;
    let mut longer = quote_link::claims_for(&quote);
    longer.expires_at_ms = i64::MAX;
    let (longer_payload, _) = quote_link::issue(&app.cfg.cipher(), &longer)
        .split_once('.')
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .unwrap();
    let stranger = store::crypto::TokenCipher::new(b"another-server-secret-0123456789", &[]);
    for bad in [
        format!("/q/{payload}.{bad_tag}"),
        format!("/q/{longer_payload}.{tag}"),
        format!(
            "/q/{}",
            quote_link::issue(&stranger, &quote_link::claims_for(&quote))
        ),
        "/q/nada".to_string(),
        format!("/q/{payload}.{bad_tag}/pdf"),
    ] {
        let (status, _, body) = get(app, &bad).await;
        assert_eq!(status, 404, "{bad}");
        let page = html(&body);
        assert!(page.contains("Página não encontrada"), "{page}");
        assert!(
            !page.contains(&number) && !page.contains("Depósito Demo"),
            "{page}"
        );
    }
    // A link signed by us naming another store with this store's quote: that store has no
    // such quote, so nothing of this one shows.
    let mut foreign = quote_link::claims_for(&quote);
    foreign.tenant_id = store::new_id();
    let (status, _, body) = get(
        app,
        &format!("/q/{}", quote_link::issue(&app.cfg.cipher(), &foreign)),
    )
    .await;
    assert_eq!(status, 410);
    let page = html(&body);
    assert!(
        !page.contains(&number) && !page.contains(&quote.total_cents.to_string()),
        "{page}"
    );
}

async fn an_expired_link_is_gone(app: &TestApp) {
    turn_link_on(app).await;
    let (number, url) = order_and_link(app, "wamid.P3", ORDER).await;
    let quote = quote_row(app, &number).await;
    // The link's own expiry passed (validity + grace).
    let past = LinkClaims {
        expires_at_ms: store::now_ms() - 1,
        ..quote_link::claims_for(&quote)
    };
    for path in [
        format!("/q/{}", quote_link::issue(&app.cfg.cipher(), &past)),
        format!("/q/{}/pdf", quote_link::issue(&app.cfg.cipher(), &past)),
    ] {
        let (status, headers, body) = get(app, &path).await;
        assert_eq!(status, 410, "{path}");
        assert_eq!(headers["cache-control"], "no-store");
        let page = html(&body);
        assert!(page.contains("Este orçamento venceu"), "{page}");
        assert!(page.contains("lang=\"pt-BR\""));
        assert!(!page.contains(&number), "{page}");
    }
    // The quote expired unanswered (its validity passed): the link it was sent with dies too.
    let path = path_of(app, &url);
    assert_eq!(get(app, &path).await.0, 200);
    let t = app.demo_tenant().await;
    let mut c = app.db.write().acquire().await.unwrap();
    store::quotes::set_status(
        &mut c,
        &t.id,
        &quote.id,
        domain::status::QuoteStatus::Expired,
        None,
    )
    .await
    .unwrap();
    drop(c);
    let (status, _, body) = get(app, &path).await;
    assert_eq!(status, 410);
    assert!(html(&body).contains("Este orçamento venceu"));
}

async fn a_newer_version_kills_the_old_link(app: &TestApp) {
    turn_link_on(app).await;
    let (n1, url1) = order_and_link(app, "wamid.P4", ORDER).await;
    let old = path_of(app, &url1);
    assert_eq!(get(app, &old).await.0, 200);
    let (n2, url2) = order_and_link(app, "wamid.P5", "na verdade são 15 sacos").await;
    assert_ne!(n1, n2, "a revision has its own number");
    let (status, _, body) = get(app, &old).await;
    assert_eq!(status, 410);
    let page = html(&body);
    assert!(
        page.contains("Existe uma versão mais nova deste orçamento"),
        "{page}"
    );
    assert!(!page.contains(&n1));
    assert_eq!(get(app, &format!("{old}/pdf")).await.0, 410);
    let (status, _, body) = get(app, &path_of(app, &url2)).await;
    assert_eq!(status, 200);
    assert!(html(&body).contains(&n2));
}

async fn no_link_while_the_setting_is_off(app: &TestApp) {
    app.webhook(&text_webhook(CUSTOMER, "wamid.P6", ORDER))
        .await;
    app.drain().await;
    let calls = app.graph.accepted();
    assert_eq!(calls.len(), 1, "the quote only");
    assert!(calls.iter().all(|c| c.cta_url().is_none()));
}
