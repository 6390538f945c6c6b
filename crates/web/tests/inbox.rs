//! The inbox staff expect (issue 12), over HTTP on both engines: each row's last message, its
//! time and the unseen mark (cleared when anyone on the team opens the conversation), search
//! by name or phone with the state filter, "Assumir"/"Soltar" seen by the rest of the team and
//! audited, the owner's quick replies (CSRF, lengths, duplicates, other stores), the full
//! number for staff, the polled pieces, WhatsApp's *bold* and the customer's conditions.

use testkit::*;

both_engines!(TestApp;
    rows_show_the_last_message_and_what_the_team_has_not_seen,
    search_by_name_or_phone_with_the_filters,
    assignment_is_visible_to_the_team_and_audited,
    quick_replies_are_the_owners_and_reach_the_reply_box,
    staff_see_the_whole_number_and_what_the_customer_wrote,
    the_polled_pieces_carry_the_queue,
);

const CARLOS: &str = "5511955554444";
const ANA: &str = "5521944443333";

async fn conv_of(app: &TestApp, wa_id: &str) -> store::conversations::Conversation {
    store::conversations::list(&app.db, &app.demo.tenant_id, None, 50)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.contact_wa_id == wa_id)
        .unwrap_or_else(|| panic!("a conversation with {wa_id}"))
}

/// The inbox row of `name`: from its link to the next row.
fn row_of<'a>(html: &'a str, id: &str) -> &'a str {
    let href = html
        .find(&format!("href=\"/conversas/{id}\""))
        .unwrap_or_else(|| panic!("row {id} listed: {html}"));
    let start = html[..href].rfind("<a ").unwrap_or(href);
    let rest = &html[start..];
    &rest[..rest.find("</a>").unwrap_or(rest.len())]
}

async fn rows_show_the_last_message_and_what_the_team_has_not_seen(app: &TestApp) {
    app.customer_says(
        &app.demo,
        CARLOS,
        "Carlos Pereira",
        "oi, vcs tem tijolo baiano?",
    )
    .await;
    let conv = conv_of(app, CARLOS).await;
    let attendant = app.as_attendant().await;
    let owner = app.as_owner().await;

    let inbox = attendant.page("/conversas").await;
    let row = row_of(&inbox, &conv.id);
    assert!(
        row.contains("conv unread"),
        "new customer message → unread: {row}"
    );
    assert!(
        row.contains(
            "<span class=\"badge unseen\" title=\"mensagens do cliente não lidas\">1</span>"
        ),
        "{row}"
    );
    // The bot answered last: its words, said to be the bot's, with the time.
    let bot_said = app.graph_accepted().last().unwrap().to_string();
    assert!(row.contains("<span class=\"who\">Robô:</span>"), "{row}");
    assert!(
        row.contains("<time class=\"when\"")
            && (row.contains(">agora</time>") || row.contains(">há 1 min</time>")),
        "{row}"
    );
    assert!(!bot_said.is_empty());

    // The owner opens it: seen for the whole team (one mark per store).
    owner.page(&format!("/conversas/{}", conv.id)).await;
    let row_now = attendant.page("/conversas").await;
    let row = row_of(&row_now, &conv.id);
    assert!(
        !row.contains("unread") && !row.contains("badge unseen"),
        "{row}"
    );
    let overview = attendant.page("/").await;
    assert!(
        !overview.contains("com mensagens não lidas"),
        "nothing unseen"
    );

    // A new customer message is unread again, and the overview says so.
    app.customer_says(&app.demo, CARLOS, "Carlos Pereira", "e areia média?")
        .await;
    let inbox = attendant.page("/conversas").await;
    let row = row_of(&inbox, &conv.id);
    assert!(
        row.contains(">1</span>"),
        "only the new message counts: {row}"
    );
    assert!(attendant
        .page("/")
        .await
        .contains("1 com mensagens não lidas"));

    // The transcript polled while the conversation is open counts as seen too.
    attendant
        .page(&format!("/conversas/{}/mensagens", conv.id))
        .await;
    let inbox = owner.page("/conversas").await;
    assert!(!row_of(&inbox, &conv.id).contains("badge unseen"));

    // A long message is cut on the row, whole in the transcript.
    let long = format!("quero saber {} fim", "muito ".repeat(40));
    let conv_ana = {
        app.customer_says(&app.demo, ANA, "Ana Souza", "quero falar com atendente")
            .await;
        conv_of(app, ANA).await
    };
    owner
        .post_form(
            &format!("/conversas/{}/responder", conv_ana.id),
            &[("text", &long)],
        )
        .await;
    let inbox = owner.page("/conversas").await;
    let row = row_of(&inbox, &conv_ana.id);
    assert!(
        row.contains("<span class=\"who\">Atendente:</span> quero saber muito"),
        "{row}"
    );
    assert!(
        row.contains("…") && !row.contains(" fim"),
        "cut at 80 characters: {row}"
    );
}

async fn search_by_name_or_phone_with_the_filters(app: &TestApp) {
    app.customer_says(&app.demo, CARLOS, "Carlos Pereira", "bom dia")
        .await;
    app.customer_says(&app.demo, ANA, "Ana Souza", "quero falar com atendente")
        .await;
    let staff = app.as_attendant().await;
    let listed =
        |html: &str, who: &str| html.contains(&format!("<strong class=\"contact\">{who}</strong>"));

    for q in ["carlos", "CARLOS P", "pereira"] {
        let html = staff
            .page(&format!("/conversas?q={}", q.replace(' ', "+")))
            .await;
        assert!(
            listed(&html, "Carlos Pereira") && !listed(&html, "Ana Souza"),
            "{q}"
        );
    }
    for q in [
        "5511955554444",
        "%2B55+(11)+95555-4444",
        "11+95555-4444",
        "95555-4444",
        "(11)955554444",
    ] {
        let html = staff.page(&format!("/conversas?q={q}")).await;
        assert!(listed(&html, "Carlos Pereira"), "phone {q}");
        assert!(!listed(&html, "Ana Souza"), "phone {q}");
    }
    let html = staff.page("/conversas?q=4443333").await;
    assert!(listed(&html, "Ana Souza") && !listed(&html, "Carlos Pereira"));
    // With the state filter: Ana waits for a person, Carlos does not.
    let html = staff.page("/conversas?q=a&estado=WAITING_PERSON").await;
    assert!(
        listed(&html, "Ana Souza") && !listed(&html, "Carlos Pereira"),
        "{html}"
    );
    let html = staff
        .page("/conversas?q=carlos&estado=WAITING_PERSON")
        .await;
    assert!(!listed(&html, "Carlos Pereira"));
    assert!(html.contains("Nenhuma conversa com “carlos”."), "says so");
    // The box keeps what was typed (escaped), and LIKE's wildcards are plain characters.
    let html = staff.page("/conversas?q=%25%22%3E%3Cb%3E").await;
    assert!(!listed(&html, "Carlos Pereira") && !listed(&html, "Ana Souza"));
    assert!(
        html.contains("value=\"%&#x22;&gt;&lt;b&gt;\"")
            || html.contains("value=\"%&quot;&gt;&lt;b&gt;\""),
        "escaped"
    );
    // The polled rows answer the same search.
    let rows = staff.page("/conversas/lista?q=95555").await;
    assert!(listed(&rows, "Carlos Pereira") && !listed(&rows, "Ana Souza"));
    // Another store's customers are never found.
    let other = app.signed_in("outra", OWNER_EMAIL, PASSWORD).await;
    assert!(!listed(
        &other.page("/conversas?q=carlos").await,
        "Carlos Pereira"
    ));
}

async fn assignment_is_visible_to_the_team_and_audited(app: &TestApp) {
    app.customer_says(&app.demo, ANA, "Ana Souza", "quero falar com atendente")
        .await;
    let conv = conv_of(app, ANA).await;
    let attendant = app.as_attendant().await;
    let owner = app.as_owner().await;
    let path = format!("/conversas/{}", conv.id);

    let page = attendant.page(&path).await;
    assert!(page.contains("Sem responsável") && page.contains("id=\"assign\""));
    // Without the CSRF token nothing changes.
    attendant
        .post(&format!("{path}/atribuir"), &[])
        .answer()
        .await
        .expect_status_because(403, "no CSRF token");
    assert!(!owner.page("/conversas").await.contains("com João"));

    let r = attendant.post_form(&format!("{path}/atribuir"), &[]).await;
    assert_eq!(r.status(), 303);
    let mine = attendant.page(&path).await;
    assert!(
        mine.contains("Com <strong class=\"assignee\">você</strong>")
            && mine.contains("id=\"release\"")
    );
    // The owner sees who has it, in the list and on the page.
    let inbox = owner.page("/conversas").await;
    assert!(
        row_of(&inbox, &conv.id)
            .contains("<span class=\"tag human assignee\">com João do Balcão</span>"),
        "{inbox}"
    );
    assert!(owner
        .page(&path)
        .await
        .contains("Com <strong class=\"assignee\">João do Balcão</strong>"));
    let audit = store::audit::list(&app.db, Some(&app.demo.tenant_id), 20)
        .await
        .unwrap();
    let e = audit
        .iter()
        .find(|e| e.action == "conversation.assign")
        .expect("audited");
    assert_eq!(e.entity_id.as_deref(), Some(conv.id.as_str()));
    assert!(e
        .after_json
        .as_deref()
        .unwrap_or_default()
        .contains("João do Balcão"));

    // The owner takes it over: now it is hers, for the attendant to see.
    owner.post_form(&format!("{path}/atribuir"), &[]).await;
    assert!(row_of(&attendant.page("/conversas").await, &conv.id).contains("com Dona"));

    owner.post_form(&format!("{path}/soltar"), &[]).await;
    let row = attendant.page("/conversas").await;
    assert!(!row_of(&row, &conv.id).contains("assignee"), "nobody's");
    assert!(store::audit::list(&app.db, Some(&app.demo.tenant_id), 20)
        .await
        .unwrap()
        .iter()
        .any(|e| e.action == "conversation.unassign"));

    // Taking a conversation from the bot assigns it; handing it back frees it.
    app.customer_says(&app.demo, CARLOS, "Carlos Pereira", "bom dia")
        .await;
    let carlos = conv_of(app, CARLOS).await;
    attendant
        .post_form(&format!("/conversas/{}/assumir", carlos.id), &[])
        .await;
    assert!(row_of(&owner.page("/conversas").await, &carlos.id).contains("com João do Balcão"));
    attendant
        .post_form(&format!("/conversas/{}/devolver", carlos.id), &[])
        .await;
    assert!(!row_of(&owner.page("/conversas").await, &carlos.id).contains("assignee"));

    // Another store's conversation is not found.
    let other = app.signed_in("outra", OWNER_EMAIL, PASSWORD).await;
    other
        .post_form(&format!("{path}/atribuir"), &[])
        .await
        .expect_status_because(404, "another store's conversation");
}

async fn quick_replies_are_the_owners_and_reach_the_reply_box(app: &TestApp) {
    let owner = app.as_owner().await;
    let attendant = app.as_attendant().await;
    let count = || async {
        store::inbox::quick_replies(&app.db, &app.demo.tenant_id)
            .await
            .unwrap()
    };
    attendant
        .get("/respostas")
        .answer()
        .await
        .expect_status_because(403, "the owner manages them");
    attendant
        .post_form("/respostas", &[("title", "Oi"), ("body", "Olá!")])
        .await
        .expect_status_because(403, "attendant");
    owner
        .post(
            "/respostas",
            &[("title", "Horário"), ("body", "Das 7h às 18h.")],
        )
        .answer()
        .await
        .expect_status_because(403, "no CSRF token");
    assert!(count().await.is_empty(), "nothing saved");

    let long_title = "t".repeat(41);
    let html = owner
        .post_form("/respostas", &[("title", &long_title), ("body", "ok")])
        .await
        .page_with_status(422)
        .await;
    assert!(html.contains("Título: obrigatório, até 40 caracteres"));
    let long_body = "b".repeat(1001);
    let html = owner
        .post_form("/respostas", &[("title", "Longa"), ("body", &long_body)])
        .await
        .page_with_status(422)
        .await;
    assert!(html.contains("Texto: obrigatório, até 1000 caracteres"));
    assert!(count().await.is_empty());

    let body = "Abrimos de *segunda a sábado*, das 7h às 18h. <Rua 1> & cia";
    owner
        .post_form("/respostas", &[("title", " Horário "), ("body", body)])
        .await
        .expect_status(303);
    let saved = count().await;
    assert_eq!(saved.len(), 1);
    assert_eq!(
        (saved[0].title.as_str(), saved[0].body.as_str()),
        ("Horário", body)
    );
    let dup = owner
        .post_form("/respostas", &[("title", "Horário"), ("body", "outro")])
        .await
        .page_with_status(409)
        .await;
    assert!(dup.contains("Já existe uma resposta rápida com esse título."));

    // Staff see it above the reply box of a conversation they can answer.
    app.customer_says(&app.demo, ANA, "Ana Souza", "quero falar com atendente")
        .await;
    let conv = conv_of(app, ANA).await;
    let page = attendant.page(&format!("/conversas/{}", conv.id)).await;
    assert!(
        page.contains(
            "data-text=\"Abrimos de *segunda a sábado*, das 7h às 18h. &lt;Rua 1&gt; &amp; cia\""
        ),
        "{page}"
    );
    assert!(page.contains(">Horário</button>"));

    // Edit and delete, each audited; another store cannot touch it.
    let id = saved[0].id.clone();
    let other = app.signed_in("outra", OWNER_EMAIL, PASSWORD).await;
    other
        .post_form(&format!("/respostas/{id}/excluir"), &[])
        .await
        .expect_status_because(404, "another store's reply");
    owner
        .post_form(
            &format!("/respostas/{id}"),
            &[
                ("title", "Horário de funcionamento"),
                ("body", "Das 7h às 17h."),
            ],
        )
        .await
        .expect_status(303);
    assert_eq!(count().await[0].body, "Das 7h às 17h.");
    owner
        .post_form(&format!("/respostas/{id}/excluir"), &[])
        .await
        .expect_status(303);
    assert!(count().await.is_empty());
    let actions: Vec<String> = store::audit::list(&app.db, Some(&app.demo.tenant_id), 20)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in [
        "quick_reply.add",
        "quick_reply.update",
        "quick_reply.delete",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited: {actions:?}");
    }
}

async fn staff_see_the_whole_number_and_what_the_customer_wrote(app: &TestApp) {
    app.customer_says(
        &app.demo,
        CARLOS,
        "Carlos Pereira",
        "preciso *urgente* de _cimento_ <script>alert(1)</script>",
    )
    .await;
    app.customer_says(
        &app.demo,
        CARLOS,
        "Carlos Pereira",
        "caso não tenha, 4 sc de cimento cp4",
    )
    .await;
    let conv = conv_of(app, CARLOS).await;
    let staff = app.as_attendant().await;
    let page = staff.page(&format!("/conversas/{}", conv.id)).await;
    assert!(page.contains("<strong class=\"number\">+55 11 95555-4444</strong>"));
    assert!(page.contains("href=\"https://wa.me/5511955554444\""));
    assert!(page.contains("href=\"tel:+5511955554444\""));
    // WhatsApp's marks as WhatsApp shows them, and nothing the customer wrote is HTML.
    assert!(
        page.contains("preciso <strong>urgente</strong> de <em>cimento</em> &lt;script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>alert(1)"));
    // The condition the customer put on the item, for staff to read.
    let conditions = between(&page, "id=\"conditions\"", "</section>").expect("conditions shown");
    assert!(conditions.contains("<li>"), "{conditions}");
    // The list keeps the number masked (as logs and exports do).
    let inbox = staff.page("/conversas").await;
    assert!(inbox.contains("5511*******44") && !inbox.contains("95555-4444"));
}

async fn the_polled_pieces_carry_the_queue(app: &TestApp) {
    app.customer_says(&app.demo, CARLOS, "Carlos Pereira", "bom dia")
        .await;
    let staff = app.as_attendant().await;
    let r = staff
        .get("/conversas/lista")
        .answer()
        .await
        .expect_status(200);
    assert_eq!(r.header_text("x-aguardando-atendente"), Some("0"));
    assert_eq!(r.header_text("cache-control"), Some("no-store"));
    let rows = r.body().await;
    assert!(
        rows.contains("Carlos Pereira") && !rows.contains("<html"),
        "a fragment"
    );

    app.customer_says(&app.demo, ANA, "Ana Souza", "quero falar com atendente")
        .await;
    let r = staff.get("/resumo").answer().await.expect_status(200);
    assert_eq!(r.header_text("x-aguardando-atendente"), Some("1"));
    let tiles = r.body().await;
    assert!(tiles.contains("<span class=\"num\">1</span><span>aguardando atendente</span>"));
    let r = staff
        .get("/conversas/lista?estado=WAITING_PERSON")
        .answer()
        .await
        .expect_status(200);
    let rows = r.body().await;
    assert!(rows.contains("Ana Souza") && !rows.contains("Carlos Pereira"));
    // The pages point the script at them, and the queue page lights the queue in the menu.
    assert!(staff.page("/").await.contains("data-live=\"/resumo\""));
    let queue = staff.page("/conversas?estado=WAITING_PERSON").await;
    // (autoescaped: the browser reads "&#x2f;" as "/")
    assert!(
        queue.contains("data-live=\"&#x2f;conversas&#x2f;lista?estado=WAITING_PERSON\""),
        "{queue}"
    );
    assert!(
        queue.contains("class=\"queue on\" id=\"nav-waiting\""),
        "queue item lit"
    );
    assert!(
        queue.contains("<a href=\"/conversas\" class=\"\">Conversas</a>"),
        "not Conversas"
    );
    // Signed out, the polled pieces are not served.
    let r = app.get("demo", "/conversas/lista", None).answer().await;
    assert_eq!(r.status(), 303);
}
