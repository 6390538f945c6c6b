//! Where the goods go: CEPs in any spelling ([`cep`]), bairros from the store's list and a
//! built-in list of São Paulo bairros ([`gazetteer`]), "no bairro X" / "aqui no Jd X"
//! phrasing and street addresses ([`phrases`]), and how a bairro written freely is spelt
//! ([`names`]).

mod cep;
mod gazetteer;
mod names;
mod phrases;

pub(crate) use cep::find_cep;
pub(crate) use gazetteer::{compare_key, Gazetteer};
pub(crate) use phrases::find_place;
