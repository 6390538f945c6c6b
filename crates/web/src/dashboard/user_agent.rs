//! A browser's `User-Agent` as a person reads it on the team page: "Chrome no Windows",
//! "Safari no iPhone" (issue 12 item 8). The raw string stays in the database for whoever
//! investigates; people see the summary.

/// "Chrome no Windows"; what is not recognised reads "Navegador desconhecido", and an unknown
/// system is left out rather than guessed.
pub fn summary(ua: &str) -> String {
    let browser = browser(ua);
    match system(ua) {
        Some(os) => format!("{browser} {os}"),
        None => browser.to_string(),
    }
}

fn browser(ua: &str) -> &'static str {
    // Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari", and
    // Chrome/Firefox on iOS say "CriOS"/"FxiOS".
    const BROWSERS: [(&str, &str); 9] = [
        ("Edg", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("CriOS/", "Chrome"),
        ("FxiOS/", "Firefox"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ];
    BROWSERS
        .iter()
        .find(|(token, _)| ua.contains(token))
        .map_or("Navegador desconhecido", |(_, name)| name)
}

fn system(ua: &str) -> Option<&'static str> {
    const SYSTEMS: [(&str, &str); 7] = [
        ("iPhone", "no iPhone"),
        ("iPad", "no iPad"),
        ("Android", "no Android"),
        ("Windows", "no Windows"),
        ("CrOS", "no Chromebook"),
        ("Mac OS X", "no Mac"),
        ("Linux", "no Linux"),
    ];
    SYSTEMS
        .iter()
        .find(|(token, _)| ua.contains(token))
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn real_user_agents_read_as_a_person_says_them() {
        let cases = [
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome no Windows"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86", "Edge no Windows"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari no iPhone"),
            ("Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", "Samsung Internet no Android"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox no Mac"),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", "Chrome no Linux"),
            ("curl/8.5.0", "curl"),
            ("", "Navegador desconhecido"),
        ];
        for (ua, want) in cases {
            assert_eq!(summary(ua), want, "{ua}");
        }
    }
}
