//! Offline understanding of JSON lines, for the evaluation set:
//! `cargo run -p domain --example parse -- eval/catalog.csv < eval/messages.dev.jsonl`
//! Reads `{"id","turns"}` lines on stdin, writes one prediction line per input.

use std::io::{BufRead, Write};

use domain::catalog::parse_catalog_csv;
use domain::understanding::{parse_jsonl_line, CatalogIndex};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("uso: parse CATALOGO.csv < entrada.jsonl");
        std::process::exit(2);
    };
    let csv = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("não foi possível ler {path}: {e}");
            std::process::exit(2);
        }
    };
    let items = match parse_catalog_csv(&csv) {
        Ok(items) => items,
        Err(errs) => {
            for e in errs {
                eprintln!("{path}: {e}");
            }
            std::process::exit(2);
        }
    };
    let index = CatalogIndex::build(&items, &[]);
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut failed = false;
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("erro de leitura: {e}");
                std::process::exit(2);
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match parse_jsonl_line(&line, &index) {
            Ok(json) => {
                if writeln!(out, "{json}").is_err() {
                    std::process::exit(1);
                }
            }
            Err(e) => {
                eprintln!("linha {}: {e}", n + 1);
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}
