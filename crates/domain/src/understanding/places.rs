//! Where the goods go: CEPs in any spelling, bairros from the store's list, a built-in list
//! of São Paulo bairros, "no bairro X" / "aqui no Jd X" phrasing and street addresses.

use crate::ids::Cep;

use super::text::{self, Kind, Token};

/// A bairro the understanding can recognise, with its canonical spelling.
#[derive(Debug, Clone)]
pub(crate) struct Bairro {
    pub canonical: String,
    pub words: Vec<String>,
}

/// São Paulo bairros and districts (with accents), so that "grajau" reads "Grajaú" even
/// when the store has no freight rule for it. Stores add their own through freight rules.
const SAO_PAULO_BAIRROS: &[&str] = &[
    "Centro",
    "Sé",
    "República",
    "Bela Vista",
    "Consolação",
    "Liberdade",
    "Cambuci",
    "Aclimação",
    "Bom Retiro",
    "Brás",
    "Pari",
    "Mooca",
    "Belém",
    "Tatuapé",
    "Água Rasa",
    "Vila Prudente",
    "Sapopemba",
    "São Lucas",
    "Vila Formosa",
    "Carrão",
    "Aricanduva",
    "Vila Matilde",
    "Penha",
    "Cangaíba",
    "Ermelino Matarazzo",
    "Ponte Rasa",
    "Artur Alvim",
    "Cidade Líder",
    "Itaquera",
    "José Bonifácio",
    "Parque do Carmo",
    "Cidade Tiradentes",
    "Guaianases",
    "Lajeado",
    "Itaim Paulista",
    "Vila Curuçá",
    "São Miguel Paulista",
    "Jardim Helena",
    "Vila Jacuí",
    "São Mateus",
    "São Rafael",
    "Iguatemi",
    "Jardim Iguatemi",
    "Vila Carrão",
    "Jardim Ângela",
    "Jardim São Luís",
    "Capão Redondo",
    "Campo Limpo",
    "Vila Andrade",
    "Morumbi",
    "Vila Sônia",
    "Butantã",
    "Rio Pequeno",
    "Raposo Tavares",
    "Jaguaré",
    "Lapa",
    "Perdizes",
    "Pinheiros",
    "Jardim Paulista",
    "Itaim Bibi",
    "Moema",
    "Vila Mariana",
    "Saúde",
    "Jabaquara",
    "Cursino",
    "Ipiranga",
    "Sacomã",
    "Vila Clementino",
    "Campo Belo",
    "Santo Amaro",
    "Socorro",
    "Cidade Dutra",
    "Grajaú",
    "Interlagos",
    "Parelheiros",
    "Marsilac",
    "Pedreira",
    "Cidade Ademar",
    "Jardim Miriam",
    "Americanópolis",
    "Vila Joaniza",
    "Jardim Prudência",
    "Jardim Marajoara",
    "Veleiros",
    "Jardim Iporanga",
    "Jardim Herculano",
    "Jardim Nakamura",
    "Jardim São Bernardo",
    "Parque Santo Antônio",
    "Jardim Santo Antônio",
    "Vila das Belezas",
    "Jardim Guarapiranga",
    "Jardim Mirna",
    "Cidade Júlia",
    "Vila Missionária",
    "Eldorado",
    "Jardim Eliana",
    "Jardim Noronha",
    "Jardim Lucélia",
    "Jardim Lídia",
    "Jardim Aracati",
    "Parque Novo Santo Amaro",
    "Chácara Santo Antônio",
    "Jardim Colonial",
    "Vila Guacuri",
    "Jardim Apurá",
    "Jardim Luso",
    "Jardim Campo Grande",
    "Vila Santa Catarina",
    "Vila Mascote",
    "Jardim América",
    "Jardim Europa",
    "Jardim Paulistano",
    "Vila Madalena",
    "Vila Leopoldina",
    "Barra Funda",
    "Água Branca",
    "Casa Verde",
    "Limão",
    "Freguesia do Ó",
    "Brasilândia",
    "Pirituba",
    "Jaraguá",
    "Perus",
    "Anhanguera",
    "Santana",
    "Tucuruvi",
    "Mandaqui",
    "Tremembé",
    "Jaçanã",
    "Vila Guilherme",
    "Vila Maria",
    "Vila Medeiros",
    "Cachoeirinha",
    "Vila Nova Cachoeirinha",
    "Parada Inglesa",
    "Jardim São Paulo",
    "Vila Ema",
    "Vila Alpina",
    "Parque São Lucas",
    "Jardim Independência",
    "Vila Industrial",
    "Jardim Planalto",
    "Parque Bristol",
    "Jardim Imperador",
    "Cidade Patriarca",
    "Vila Esperança",
    "Vila Nhocuné",
    "Jardim Nordeste",
    "Parque São Rafael",
    "Jardim Santa Terezinha",
    "Vila Regente Feijó",
    "Jardim Anália Franco",
    "Vila Gomes Cardim",
    "Jardim da Glória",
    "Vila Monumento",
    "Vila Gumercindo",
    "Vila Brasilina",
    "Jardim da Saúde",
    "Vila Arapuá",
    "Vila Moraes",
    "Jardim Clímax",
    "Vila Santa Teresa",
    "Jardim Celeste",
    "Jardim Patente",
    "Heliópolis",
    "Vila Heliópolis",
    "Jardim Íris",
    "Vila Campestre",
    "Vila Fachini",
    "Jardim Vergueiro",
    "Jardim Ubirajara",
    "Jardim Oriental",
    "Vila Santa Catarina",
    "Parque Jabaquara",
    "Jardim Lourdes",
    "Cidade Vargas",
    "Vila Guarani",
    "Jardim Jabaquara",
    "Jardim Itapura",
    "Parque Residencial Cocaia",
    "Cocaia",
    "Jardim Eliane",
    "Jardim Varginha",
    "Varginha",
    "Jardim Castro Alves",
    "Jardim Shangrilá",
    "Jardim Belcito",
    "Jardim Reimberg",
    "Jardim Presidente",
    "Cantinho do Céu",
    "Parque América",
    "Jardim Gaivotas",
    "Vila São José",
    "Jardim Real",
    "Jardim Icaraí",
    "Jardim Represa",
    "Jardim Capela",
    "Jardim Jacira",
    "Jardim Vera Cruz",
    "Jardim Vaz de Lima",
    "Jardim Souza",
    "Parque Fernanda",
    "Jardim Comercial",
    "Jardim Germânia",
    "Jardim Monte Azul",
    "Jardim Macedônia",
    "Parque Maria Helena",
    "Jardim Ibirapuera",
    "Jardim Tupi",
    "Jardim Umuarama",
];

/// Cities around São Paulo: a city is not a bairro.
fn is_city(folded: &str) -> bool {
    matches!(
        folded,
        "santo andre"
            | "sao bernardo"
            | "sao bernardo do campo"
            | "sao caetano"
            | "sao caetano do sul"
            | "diadema"
            | "osasco"
            | "guarulhos"
            | "maua"
            | "taboao"
            | "taboao da serra"
            | "embu"
            | "embu das arte"
            | "cotia"
            | "barueri"
            | "carapicuiba"
            | "sao paulo"
            | "sp"
            | "abc"
            | "itapecerica"
            | "itapecerica da serra"
            | "ribeirao pire"
            | "suzano"
            | "mogi"
            | "mogi das cruze"
            | "ferraz"
            | "poa"
            | "itaquaquecetuba"
            | "franco da rocha"
            | "caieira"
            | "santana de parnaiba"
            | "campina"
            | "santos"
            | "santo"
            | "sao vicente"
            | "praia grande"
            | "jundiai"
    )
}

/// Bairros indexed by their first word, so a message is scanned once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gazetteer {
    pub list: Vec<Bairro>,
    by_first: std::collections::HashMap<String, Vec<usize>>,
}

impl Gazetteer {
    pub(crate) fn new(known: &[String]) -> Gazetteer {
        let list = bairro_list(known);
        let mut by_first: std::collections::HashMap<String, Vec<usize>> = Default::default();
        for (i, b) in list.iter().enumerate() {
            if let Some(first) = b.words.first() {
                by_first.entry(first.clone()).or_default().push(i);
                let (sing, plural) = text::singular(first);
                if plural {
                    by_first.entry(sing).or_default().push(i);
                }
            }
        }
        Gazetteer { list, by_first }
    }

    fn starting_with(&self, w: &str) -> &[usize] {
        self.by_first.get(w).map(Vec::as_slice).unwrap_or(&[])
    }
}

pub(crate) fn bairro_list(known: &[String]) -> Vec<Bairro> {
    let mut out: Vec<Bairro> = Vec::new();
    for name in known
        .iter()
        .map(String::as_str)
        .chain(SAO_PAULO_BAIRROS.iter().copied())
    {
        let words = place_words(name);
        if words.is_empty() || out.iter().any(|b| b.words == words) {
            continue;
        }
        out.push(Bairro {
            canonical: name.trim().to_string(),
            words,
        });
    }
    out
}

/// Comparison key of a place name: folded words, abbreviations expanded.
pub(crate) fn compare_key(name: &str) -> String {
    place_words(name).join(" ")
}

/// Folded words of a place name with abbreviations expanded: "Jd. São Luís" → jardim sao luis.
fn place_words(name: &str) -> Vec<String> {
    text::fold(name)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| expand_abbrev(w).to_string())
        .collect()
}

fn expand_abbrev(w: &str) -> &str {
    match w {
        "jd" | "jdm" | "jard" | "jrd" | "jdim" => "jardim",
        "vl" | "vla" => "vila",
        "pq" | "pque" | "prq" => "parque",
        "cj" | "conj" => "conjunto",
        "res" => "residencial",
        "sta" => "santa",
        "sto" => "santo",
        "cid" => "cidade",
        "chac" => "chacara",
        other => other,
    }
}

/// Words that open a bairro name.
fn is_place_prefix(w: &str) -> bool {
    matches!(
        w,
        "jardim"
            | "vila"
            | "parque"
            | "cidade"
            | "conjunto"
            | "residencial"
            | "chacara"
            | "recanto"
            | "jardin"
            | "sitio"
            | "morro"
            | "alto"
            | "balneario"
            | "loteamento"
            | "bairro"
            | "nucleo"
            | "estancia"
            | "portal"
            | "condominio"
    )
}

/// Words after which a capitalised name is a place: "entrega em Interlagos".
fn is_place_cue(w: &str) -> bool {
    matches!(w, "no" | "na" | "em" | "bairro")
}

fn is_connector(w: &str) -> bool {
    matches!(w, "de" | "da" | "do" | "dos" | "das")
}

/// Accents of common words in bairro names, for names written without them.
fn accent(w: &str) -> Option<&'static str> {
    Some(match w {
        "sao" => "São",
        "angela" => "Ângela",
        "grajau" => "Grajaú",
        "jose" => "José",
        "joao" => "João",
        "luis" => "Luís",
        "sacoma" => "Sacomã",
        "capao" => "Capão",
        "conceicao" => "Conceição",
        "tatuape" => "Tatuapé",
        "america" => "América",
        "gloria" => "Glória",
        "paraiso" => "Paraíso",
        "sebastiao" => "Sebastião",
        "agua" => "Água",
        "tremembe" => "Tremembé",
        "jacana" => "Jaçanã",
        "belem" => "Belém",
        "bras" => "Brás",
        "saude" => "Saúde",
        "piraja" => "Pirajá",
        "sonia" => "Sônia",
        "monica" => "Mônica",
        "lucia" => "Lúcia",
        "antonio" => "Antônio",
        "andre" => "André",
        "ines" => "Inês",
        "marilia" => "Marília",
        "emilia" => "Emília",
        "cecilia" => "Cecília",
        "vitoria" => "Vitória",
        "esperanca" => "Esperança",
        "uniao" => "União",
        "colonia" => "Colônia",
        "independencia" => "Independência",
        "patricia" => "Patrícia",
        "helia" => "Hélia",
        "heliopolis" => "Heliópolis",
        "americanopolis" => "Americanópolis",
        "jordanopolis" => "Jordanópolis",
        "imperio" => "Império",
        "sabara" => "Sabará",
        "macedonia" => "Macedônia",
        "chacara" => "Chácara",
        "butanta" => "Butantã",
        "jaragua" => "Jaraguá",
        "limao" => "Limão",
        "brasilandia" => "Brasilândia",
        "cangaiba" => "Cangaíba",
        "jacui" => "Jacuí",
        "curuca" => "Curuçá",
        "prudencia" => "Prudência",
        "lidia" => "Lídia",
        "lucelia" => "Lucélia",
        "julia" => "Júlia",
        "missionaria" => "Missionária",
        "apura" => "Apurá",
        "anhangabau" => "Anhangabaú",
        "consolacao" => "Consolação",
        "republica" => "República",
        "aclimacao" => "Aclimação",
        "carrao" => "Carrão",
        "lider" => "Líder",
        "bonifacio" => "Bonifácio",
        "guaianase" | "guaianases" => "Guaianases",
        "anhanguera" => "Anhanguera",
        "ceu" => "Céu",
        "icarai" => "Icaraí",
        "iris" => "Íris",
        "climax" => "Clímax",
        "analia" => "Anália",
        "germania" => "Germânia",
        "shangrila" => "Shangrilá",
        "feijo" => "Feijó",
        "nhocune" => "Nhocuné",
        "ipe" => "Ipê",
        "pessego" => "Pêssego",
        "sitio" => "Sítio",
        "recreio" => "Recreio",
        "horizonte" => "Horizonte",
        "estancia" => "Estância",
        "nucleo" => "Núcleo",
        "balneario" => "Balneário",
        "alvorada" => "Alvorada",
        "marcia" => "Márcia",
        "silvia" => "Sílvia",
        "claudia" => "Cláudia",
        "fatima" => "Fátima",
        "leticia" => "Letícia",
        "vinicius" => "Vinícius",
        "araujo" => "Araújo",
        _ => return None,
    })
}

/// Title-cases a bairro written freely, expanding abbreviations and restoring accents:
/// "jd iporanga" → "Jardim Iporanga".
pub(crate) fn canonical_free_name(original_words: &[&str]) -> String {
    let mut out: Vec<String> = Vec::new();
    for (k, w) in original_words.iter().enumerate() {
        let folded = text::fold(w);
        let dotted = w.ends_with('.').then(|| dotted_abbrev(&folded)).flatten();
        let expanded = dotted.unwrap_or_else(|| expand_abbrev(&folded));
        if k > 0 && is_connector(expanded) {
            out.push(expanded.to_string());
            continue;
        }
        let word = if expanded != folded {
            accent(expanded).map_or_else(|| title(expanded), str::to_string)
        } else if *w == folded.as_str() {
            // Written without accents (or needs none): restore known accents.
            match accent(&folded) {
                Some(a) => a.to_string(),
                None => title(&folded),
            }
        } else {
            title(w)
        };
        out.push(word);
    }
    out.join(" ")
}

fn title(w: &str) -> String {
    let mut cs = w.chars();
    match cs.next() {
        Some(f) => {
            let rest: String = cs.flat_map(|c| c.to_lowercase()).collect();
            f.to_uppercase().collect::<String>() + &rest
        }
        None => String::new(),
    }
}

/// Finds a CEP in any common spelling. Returns the last one and the byte ranges to mask.
pub(crate) fn find_cep(text: &str) -> (Option<Cep>, Vec<(usize, usize)>) {
    let b = text.as_bytes();
    let mut found = None;
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && b[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        // Collect digit groups separated by one '.', '-' or ' '.
        let start = i;
        let mut groups: Vec<usize> = Vec::new();
        let mut j = i;
        loop {
            let gs = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            groups.push(j - gs);
            if j + 1 < b.len()
                && matches!(b[j], b'.' | b'-' | b' ')
                && b[j + 1].is_ascii_digit()
                && groups.len() < 3
            {
                let total: usize = groups.iter().sum();
                if total >= 8 {
                    break;
                }
                j += 1;
                continue;
            }
            break;
        }
        // Trim trailing groups until the shape is a CEP shape.
        let mut end = j;
        let mut ok_shape = None;
        let mut gs = groups.clone();
        while !gs.is_empty() {
            if matches!(gs.as_slice(), [8] | [5, 3] | [2, 3, 3]) {
                ok_shape = Some(gs.len());
                break;
            }
            gs.pop();
        }
        if let Some(n_groups) = ok_shape {
            // Recompute the end of the accepted groups.
            let mut k = start;
            let mut g = 0;
            while g < n_groups {
                while k < b.len() && b[k].is_ascii_digit() {
                    k += 1;
                }
                g += 1;
                if g < n_groups {
                    k += 1;
                }
            }
            end = k;
            // "12.345.678/0001-90" is a CNPJ, not a CEP.
            let followed_by_digit = end < b.len() && (b[end].is_ascii_digit() || b[end] == b'/');
            let raw = &text[start..end];
            if !followed_by_digit {
                if let Ok(cep) = Cep::parse(raw) {
                    // A space-separated pair is only a CEP when the word "cep" is near.
                    let spaced = raw.contains(' ');
                    // Only the few bytes before the number matter.
                    let mut from = start.saturating_sub(8);
                    while !text.is_char_boundary(from) {
                        from += 1;
                    }
                    let before = text[from..start].to_lowercase();
                    let before = before.trim_end();
                    let cue = before.ends_with("cep") || before.ends_with("cep:");
                    if !spaced || cue || alone_on_location_line(text, start, end) {
                        found = Some(cep);
                        ranges.push((start, end));
                    }
                }
            }
        }
        i = end.max(i + 1);
    }
    (found, ranges)
}

/// "📍 04836 120", "Local: 04836 120", "Endereço - 04836 120": a 5+3 pair with nothing
/// else on a line that announces a location is a CEP even without the word "cep"; elsewhere
/// a spaced pair may be two amounts ("10000 500").
fn alone_on_location_line(text: &str, start: usize, end: usize) -> bool {
    let raw = &text[start..end];
    let five_three = raw.len() == 9 && raw.as_bytes()[5] == b' ';
    let line_start = text[..start].rfind('\n').map_or(0, |p| p + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |p| end + p);
    if !five_three || !text[end..line_end].trim().trim_end_matches('.').is_empty() {
        return false;
    }
    let label = text[line_start..start].to_lowercase();
    let mut label = label.trim();
    let mut marked = false;
    for cue in ["📍", "local", "endereço", "endereco", "end.", ":", "-"] {
        if let Some(rest) = label.strip_prefix(cue) {
            label = rest.trim_start();
            marked |= cue.len() > 1;
        }
    }
    marked && label.is_empty()
}

/// Street words: the address's own name is not an order, a weekday or a bairro.
fn is_street_word(w: &str) -> bool {
    matches!(
        w,
        "rua"
            | "r"
            | "av"
            | "avenida"
            | "travessa"
            | "tv"
            | "estrada"
            | "estr"
            | "alameda"
            | "al"
            | "praca"
            | "rodovia"
            | "viela"
            | "largo"
    )
}

/// A bairro found in the message, and the token indices it and any street address used.
#[derive(Debug, Clone)]
pub(crate) struct PlaceFound {
    pub bairro: Option<String>,
    /// Token indices (into the normalised tokens) that belong to the place or address.
    pub used: Vec<usize>,
}

/// Abbreviations written with a dot inside bairro names ("S. Mateus", "Jd. Ângela",
/// "Vl. Prudente"), and what they stand for.
fn dotted_abbrev(w: &str) -> Option<&'static str> {
    Some(match w {
        "s" => "sao",
        "sto" => "santo",
        "sta" => "santa",
        "jd" | "jard" | "jrd" => "jardim",
        "vl" => "vila",
        "pq" | "prq" => "parque",
        "cid" => "cidade",
        "cj" | "conj" => "conjunto",
        "res" => "residencial",
        _ => return None,
    })
}

pub(crate) fn find_place(toks: &[Token], text: &str, gaz: &Gazetteer) -> PlaceFound {
    // The dot of "S. Mateus" would end the name at "S": read the abbreviation and its dot
    // as one word, then map the token positions back for the caller.
    let mut joined: Vec<Token> = Vec::with_capacity(toks.len());
    let mut origin: Vec<usize> = Vec::with_capacity(toks.len());
    let mut k = 0;
    while k < toks.len() {
        let t = &toks[k];
        let expansion = (t.kind == Kind::Word)
            .then(|| dotted_abbrev(&t.text))
            .flatten();
        if let Some(full) = expansion {
            if toks
                .get(k + 1)
                .is_some_and(|d| d.is_punct('.') && d.start == t.end)
                && toks.get(k + 2).is_some_and(|n| n.kind == Kind::Word)
            {
                let mut w = t.clone();
                w.text = full.to_string();
                w.end = toks[k + 1].end;
                joined.push(w);
                origin.push(k);
                k += 2;
                continue;
            }
        }
        joined.push(t.clone());
        origin.push(k);
        k += 1;
    }
    let mut found = find_place_in(&joined, text, gaz);
    let mut used = Vec::with_capacity(found.used.len());
    for j in &found.used {
        let o = origin[*j];
        used.push(o);
        if joined[*j].end != toks[o].end {
            used.push(o + 1);
        }
    }
    found.used = used;
    found
}

fn find_place_in(toks: &[Token], text: &str, gaz: &Gazetteer) -> PlaceFound {
    let bairros = &gaz.list;
    let mut used = Vec::new();
    let mut bairro: Option<(usize, String)> = None; // (token position, name)

    // Street addresses: "Rua X, 45 - Bairro" / "Rua X 2000, Bairro". The street itself is
    // masked; what follows the house number is the bairro.
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let street = t.kind == Kind::Word
            && is_street_word(&t.text)
            && i + 1 < toks.len()
            && (toks[i + 1].kind == Kind::Word || toks[i + 1].is_punct('.'))
            && (t.text != "r" || toks[i + 1].is_punct('.'));
        if street {
            let mut j = i + 1;
            let mut saw_number = false;
            while j < toks.len() && toks[j].kind != Kind::Newline {
                if toks[j].kind == Kind::Num {
                    saw_number = true;
                    used.push(j);
                    j += 1;
                    break;
                }
                if toks[j].is_punct(',') && j + 1 < toks.len() && toks[j + 1].kind != Kind::Num {
                    break;
                }
                used.push(j);
                j += 1;
            }
            used.push(i);
            // After the number (or comma): optional '-'/',' then the bairro words.
            // "…, 120 - Jd Miriam", "… 120 no jd miriam", "…, 55, bairro Butantã"
            while j < toks.len()
                && (toks[j].is_punct('-')
                    || toks[j].is_punct(',')
                    || toks[j].kind == Kind::Word && is_place_cue(&toks[j].text))
            {
                j += 1;
            }
            let _ = saw_number;
            let (name_toks, end) = name_run(toks, j, false);
            if !name_toks.is_empty() {
                let words: Vec<&str> = name_toks
                    .iter()
                    .map(|k| &text[toks[*k].start..toks[*k].end])
                    .collect();
                let folded = text::fold(&words.join(" "));
                if !is_city(&folded) {
                    let name = lookup(
                        bairros,
                        &name_toks
                            .iter()
                            .map(|k| toks[*k].text.as_str())
                            .collect::<Vec<_>>(),
                    )
                    .unwrap_or_else(|| canonical_free_name(&words));
                    used.extend(name_toks.iter().copied());
                    bairro = Some((j, name));
                }
            }
            i = end.max(i + 1);
            continue;
        }
        i += 1;
    }

    // Known bairros anywhere (longest first); one-word names need a cue or a capital.
    let folded: Vec<String> = toks
        .iter()
        .map(|t| {
            if t.kind == Kind::Word {
                expand_abbrev(&t.text).to_string()
            } else {
                String::new()
            }
        })
        .collect();
    let mut best: Option<(usize, usize, &Bairro)> = None;
    for s in 0..folded.len() {
        if folded[s].is_empty() || used.contains(&s) {
            continue;
        }
        for bi in gaz.starting_with(&folded[s]) {
            let b = &bairros[*bi];
            let n = b.words.len();
            if n == 0 || s + n > folded.len() {
                continue;
            }
            if (1..n).all(|k| word_eq(&folded[s + k], &b.words[k], k)) {
                let cue =
                    s > 0 && toks[s - 1].kind == Kind::Word && is_place_cue(&toks[s - 1].text)
                        || s > 0 && toks[s - 1].is_punct(':')
                        || s > 1 && toks[s - 1].is_punct(',') && toks[s - 2].kind == Kind::Num;
                let ok = n > 1 || cue || toks[s].cap;
                if ok && best.is_none_or(|(bs, bn, _)| n > bn || (n == bn && s > bs)) {
                    best = Some((s, n, b));
                }
            }
        }
    }
    if let Some((s, n, b)) = best {
        used.extend(s..s + n);
        if bairro.is_none() {
            bairro = Some((s, b.canonical.clone()));
        }
    }

    // Messages written in capitals say nothing by their capitals.
    let shouting = {
        let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
        let upper = letters.iter().filter(|c| c.is_uppercase()).count();
        letters.len() >= 8 && upper * 10 >= letters.len() * 6
    };
    // Phrasing: "no bairro X", "aqui no Jd X", "entrega em Interlagos".
    if bairro.is_none() {
        let mut k = 0;
        while k + 1 < toks.len() {
            let t = &toks[k];
            if t.kind == Kind::Word && is_place_cue(&t.text) {
                let mut s = k + 1;
                let explicit = t.text == "bairro";
                if toks[s].is_word("bairro") {
                    s += 1;
                }
                while s < toks.len() && toks[s].is_punct(':') {
                    s += 1;
                }
                let (name_toks, _) = name_run(toks, s, true);
                if !name_toks.is_empty() {
                    let first = &toks[name_toks[0]];
                    let prefixed = is_place_prefix(expand_abbrev(&first.text));
                    let explicit = explicit || (s > k + 1 && toks[k + 1].is_word("bairro"));
                    // Capitals mean a name only when the customer is not writing in caps;
                    // and a chat word ("Meu", "Semana") never starts a bairro.
                    let first_common = !prefixed
                        && (super::lexicon::is_chat_word(&first.text)
                            || super::lexicon::month(&first.text).is_some());
                    let capital = !shouting
                        && !first_common
                        && name_toks
                            .iter()
                            .all(|i| toks[*i].cap || is_connector(&toks[*i].text));
                    let words: Vec<&str> = name_toks
                        .iter()
                        .map(|i| &text[toks[*i].start..toks[*i].end])
                        .collect();
                    let f = text::fold(&words.join(" "));
                    if (prefixed && name_toks.len() >= 2 || explicit || capital)
                        && !is_city(&f)
                        && !looks_like_not_a_place(&f)
                    {
                        used.extend(name_toks.iter().copied());
                        bairro = Some((name_toks[0], canonical_free_name(&words)));
                        break;
                    }
                }
            }
            k += 1;
        }
    }
    used.sort_unstable();
    used.dedup();
    PlaceFound {
        bairro: bairro.map(|(_, n)| n),
        used,
    }
}

fn word_eq(msg: &str, place: &str, k: usize) -> bool {
    if msg == place {
        return true;
    }
    // Plural stripping of the message side ("interlago" vs "interlagos").
    let (sing, _) = text::singular(place);
    if msg == sing {
        return true;
    }
    // One slip in a later word of a name whose start matched: "Jardim São Luiz".
    k > 0
        && msg.len() >= 4
        && place.len() >= 4
        && text::edit_distance(msg.as_bytes(), place.as_bytes(), 1) <= 1
}

fn lookup(bairros: &[Bairro], words: &[&str]) -> Option<String> {
    let w: Vec<String> = words.iter().map(|w| expand_abbrev(w).to_string()).collect();
    bairros
        .iter()
        .find(|b| {
            b.words.len() == w.len()
                && b.words
                    .iter()
                    .zip(&w)
                    .enumerate()
                    .all(|(k, (p, m))| word_eq(m, p, k))
        })
        .map(|b| b.canonical.clone())
}

/// Words right after "no/na/em" that are not place names.
fn looks_like_not_a_place(f: &str) -> bool {
    let first = f.split(' ').next().unwrap_or("");
    matches!(
        first,
        "pix"
            | "cartao"
            | "credito"
            | "debito"
            | "boleto"
            | "dinheiro"
            | "entrega"
            | "obra"
            | "casa"
            | "segunda"
            | "terca"
            | "quarta"
            | "quinta"
            | "sexta"
            | "sabado"
            | "domingo"
            | "maximo"
            | "minimo"
            | "cep"
            | "saco"
            | "sacos"
            | "total"
            | "whatsapp"
            | "zap"
            | "caminhao"
            | "local"
            | "endereco"
            | "mesmo"
            | "mesma"
            | "hora"
            | "dia"
            | "final"
            | "fim"
            | "caso"
            | "momento"
            | "loja"
            | "deposito"
            | "centro de"
            | "rua"
            | "avenida"
            | "frente"
            | "portao"
            | "condominio"
            | "predio"
            | "apartamento"
            | "ap"
            | "apto"
            | "bloco"
            | "lote"
            | "quadra"
    ) || super::text::number_word(first).is_some()
}

/// The words of a name starting at `s`: words and connectors until punctuation, a number or
/// a common word. Returns token indices and the index after the run.
fn name_run(toks: &[Token], s: usize, stop_on_common: bool) -> (Vec<usize>, usize) {
    let mut out = Vec::new();
    let mut j = s;
    while j < toks.len() && out.len() < 5 {
        let t = &toks[j];
        if t.kind != Kind::Word {
            break;
        }
        let w = t.text.as_str();
        if is_connector(w) {
            if out.is_empty() {
                break;
            }
            // "de/da" only continue a name when a capitalised word or prefix follows.
            if j + 1 < toks.len()
                && toks[j + 1].kind == Kind::Word
                && (toks[j + 1].cap || !stop_on_common)
            {
                out.push(j);
                j += 1;
                continue;
            }
            break;
        }
        if stop_on_common
            && !out.is_empty()
            && !t.cap
            && (super::lexicon::is_chat_word(w) || w == "e" || w == "pra" || w == "pro")
        {
            break;
        }
        if w == "e" || w == "pra" || w == "pro" || w == "que" {
            break;
        }
        out.push(j);
        j += 1;
    }
    while out.last().is_some_and(|i| is_connector(&toks[*i].text)) {
        out.pop();
    }
    (out, j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bairro_of(msg: &str) -> Option<String> {
        let toks = text::analyze(msg);
        find_place(&toks, msg, &Gazetteer::new(&[])).bairro
    }

    #[test]
    fn ceps_in_any_spelling() {
        let cases = [
            ("meu cep é 04321-050", Some("04321050")),
            ("CEP 04321050", Some("04321050")),
            ("cep: 04.321-050 obrigado", Some("04321050")),
            ("cep 04321 050", Some("04321050")),
            ("liga no 11 98765-4321", None),
            ("quero 10 sacos", None),
            ("CNPJ 12.345.678/0001-90", None),
            ("📍 05512 030\n💳 pix", Some("05512030")),
            ("Local: 05512 030", Some("05512030")),
            ("endereço 05512 030", Some("05512030")),
            ("📍 05512 030 perto do mercado", None),
            ("quero 10000 500 tijolos", None),
            ("05512 030", None),
        ];
        for (msg, want) in cases {
            assert_eq!(
                find_cep(msg).0.map(|c| c.digits()).as_deref(),
                want,
                "{msg}"
            );
        }
    }

    #[test]
    fn bairros_from_phrasing() {
        let cases = [
            ("tô aqui no jd são bernardo", Some("Jardim São Bernardo")),
            ("entrega na vl guacuri", Some("Vila Guacuri")),
            ("obra no bairro Recanto Feliz", Some("Recanto Feliz")),
            ("moro em Interlagos", Some("Interlagos")),
            ("entrega no grajau amanha", Some("Grajaú")),
            ("Rua das Flores, 120 - Jardim Miriam", Some("Jardim Miriam")),
            (
                "rua das acácias 80 no jd são bernardo",
                Some("Jardim São Bernardo"),
            ),
            ("vcs entregam em Santo André?", None),
            ("pago no pix", None),
            ("caixa de luz", None),
            ("ENTREGA NO MEU ENDEREÇO", None),
            ("entrega em Março", None),
            ("ENTREGA NO JD HERCULANO", Some("Jardim Herculano")),
            ("Bairro: S. Mateus", Some("São Mateus")),
            ("entrega no Jd. Ângela", Some("Jardim Ângela")),
            ("fico na Vl. Prudente", Some("Vila Prudente")),
            ("bairro: Sto. Amaro", Some("Santo Amaro")),
            (
                "obra no bairro Pq. das Árvores Altas",
                Some("Parque das Árvores Altas"),
            ),
            ("moro na Cid. Dutra", Some("Cidade Dutra")),
            ("📍 Bairro: Sta. Cecília", Some("Santa Cecília")),
            ("📍 Bairro: S. Benedito Novo", Some("São Benedito Novo")),
        ];
        for (msg, want) in cases {
            assert_eq!(bairro_of(msg).as_deref(), want, "{msg}");
        }
    }
}
