//! Reading raw `KEY=VALUE` pairs through the variable table: a value that is set wins, an
//! unset one takes the table's default, and a bad one is refused with the variable's name.

use std::collections::HashMap;

use anyhow::{bail, Context};

use super::variables::{variable, RETIRED, TOOLING, VARIABLES};

pub(super) struct Values<'a> {
    vars: &'a HashMap<String, String>,
    production: bool,
}

impl<'a> Values<'a> {
    pub fn new(vars: &'a HashMap<String, String>) -> Self {
        Values {
            vars,
            production: false,
        }
    }

    /// From here on, defaults are production's.
    pub fn in_production(self, production: bool) -> Self {
        Values { production, ..self }
    }

    /// The value as set (trimmed; empty counts as unset).
    pub fn set(&self, name: &str) -> Option<String> {
        let _ = variable(name);
        self.vars
            .get(name)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    /// The value as set, else the table's default. Only for variables the table gives a
    /// default, so there is always a value.
    pub fn required_text(&self, name: &str) -> String {
        self.set(name).unwrap_or_else(|| self.default_text(name))
    }

    /// The table's default, whatever is set.
    pub fn default_text(&self, name: &str) -> String {
        variable(name)
            .default_value(self.production)
            .unwrap_or_else(|| panic!("{name} has no default in VARIABLES"))
            .to_string()
    }

    pub fn num(&self, name: &str) -> anyhow::Result<u64> {
        let v = self.required_text(name);
        v.parse()
            .with_context(|| format!("{name} must be a whole number, got {v:?}"))
    }

    pub fn flag(&self, name: &str) -> anyhow::Result<bool> {
        match self.required_text(name).as_str() {
            "1" | "true" | "yes" => Ok(true),
            "0" | "false" | "no" => Ok(false),
            v => bail!("{name} deve ser true ou false, não {v:?}"),
        }
    }

    /// `ORCAZAP_*` names that are set but mean nothing to the binary: a retired variable, or a
    /// typo that would otherwise be ignored in silence.
    pub fn ignored(&self) -> Vec<String> {
        let mut names: Vec<&String> = self
            .vars
            .keys()
            .filter(|k| k.starts_with("ORCAZAP_"))
            .filter(|k| !VARIABLES.iter().any(|v| v.name == k.as_str()))
            .filter(|k| !TOOLING.contains(&k.as_str()))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|k| match RETIRED.iter().find(|(name, _)| name == k) {
                Some((_, why)) => format!("{k} is no longer read and is ignored: {why}; remove it"),
                None => format!(
                    "{k} is not a configuration variable and is ignored (`orcazap env` lists them)"
                ),
            })
            .collect()
    }
}
