//! How bairro names are written: abbreviations ("Jd", "Vl.", "S."), connectors ("de",
//! "da"), and a name written freely turned into its canonical spelling with accents.

use crate::understanding::text;

pub(super) fn expand_abbrev(w: &str) -> &str {
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

pub(super) fn is_connector(w: &str) -> bool {
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

/// Abbreviations written with a dot inside bairro names ("S. Mateus", "Jd. Ângela",
/// "Vl. Prudente"), and what they stand for.
pub(super) fn dotted_abbrev(w: &str) -> Option<&'static str> {
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
