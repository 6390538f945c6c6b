//! Matching misspelt words: a bounded edit distance and a fold of letters that sound alike.

/// A word's spelling with the letters that sound alike folded together: `ss`, `ç` (already
/// `c` here), `c` before a vowel, `z` between vowels all become `s`. Used only to match typos.
pub(crate) fn sound_fold(w: &str) -> String {
    let b = w.as_bytes();
    let vowel = |c: Option<&u8>| c.is_some_and(|c| b"aeiou".contains(c));
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1);
        if c == b's' && next == Some(&b's') {
            out.push('s');
            i += 2;
            continue;
        }
        let sibilant = match c {
            // "ce"/"ci" are soft; "ç" lost its cedilla in normalisation, so a "c" between
            // vowels ("maciço" → "macico") is read as the soft sound too.
            b'c' => {
                matches!(next, Some(b'e') | Some(b'i'))
                    || (i > 0 && vowel(b.get(i - 1)) && vowel(next))
            }
            b'z' => i > 0 && vowel(b.get(i - 1)) && vowel(next),
            _ => false,
        };
        out.push(if sibilant { 's' } else { c as char });
        i += 1;
    }
    out
}

/// Bounded Damerau–Levenshtein distance (optimal string alignment); returns `max + 1` when
/// the distance exceeds `max`.
pub(crate) fn edit_distance(a: &[u8], b: &[u8], max: usize) -> usize {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > max {
        return max + 1;
    }
    if n > 40 || m > 40 {
        return max + 1;
    }
    let mut prev2 = [0usize; 41];
    let mut prev = [0usize; 41];
    let mut cur = [0usize; 41];
    for (j, p) in prev.iter_mut().enumerate().take(m + 1) {
        *p = j;
    }
    for i in 1..=n {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return max + 1;
        }
        prev2 = prev;
        prev = cur;
    }
    prev[m]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(edit_distance(b"cimeto", b"cimento", 2), 1);
        assert_eq!(edit_distance(b"simento", b"cimento", 2), 1);
        assert_eq!(edit_distance(b"argamsasa", b"argamassa", 2), 1);
        assert_eq!(edit_distance(b"abc", b"xyz", 1), 2);
    }

    #[test]
    fn same_sound_spellings() {
        let same: &[(&str, &str)] = &[
            ("macisso", "macico"),
            ("masico", "macico"),
            ("cimento", "simento"),
            ("grosa", "grossa"),
            ("cozinha", "cosinha"),
            ("pesso", "peco"),
        ];
        for (a, b) in same {
            assert_eq!(sound_fold(a), sound_fold(b), "{a} ~ {b}");
        }
        let other: &[(&str, &str)] = &[("caixa", "saixa"), ("cola", "sola"), ("prego", "preto")];
        for (a, b) in other {
            assert_ne!(sound_fold(a), sound_fold(b), "{a} !~ {b}");
        }
    }
}
