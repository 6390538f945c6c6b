//! Enums kept in the database as text (statuses, states, directions).
//!
//! [`stored_text_enum!`] writes the one table that maps each variant to its stored text, and
//! derives from it everything else: `as_str`, `FromStr`, `Display`, serde (as the same text,
//! so JSON and audit entries read like the column) and comparison with `&str`. The text is
//! what the columns hold today, so no row needs migrating.

use std::fmt;

/// A stored text that names no variant: a corrupt row or a caller's typo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownText {
    /// What was being read ("quote status", "job status"…).
    pub what: &'static str,
    pub text: String,
}

impl fmt::Display for UnknownText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?}", self.what, self.text)
    }
}

impl std::error::Error for UnknownText {}

/// Declares an enum stored as text:
///
/// ```
/// domain::stored_text_enum! {
///     /// A light.
///     pub enum Light("light") {
///         Red = "red",
///         Green = "green",
///     }
/// }
/// assert_eq!(Light::Green.as_str(), "green");
/// assert_eq!("red".parse::<Light>().unwrap(), Light::Red);
/// assert!("blue".parse::<Light>().is_err());
/// assert_eq!(Light::Red, "red");
/// ```
#[macro_export]
macro_rules! stored_text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// The text stored in the database.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::stored_text::UnknownText;
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                match s {
                    $( $text => Ok($name::$variant), )+
                    other => Err($crate::stored_text::UnknownText {
                        what: $what,
                        text: other.to_string(),
                    }),
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                // `pad`, so `{:<8}` in a table lines up.
                f.pad(self.as_str())
            }
        }

        impl $crate::stored_text::__serde::Serialize for $name {
            fn serialize<S: $crate::stored_text::__serde::Serializer>(
                &self,
                s: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::stored_text::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::stored_text::__serde::Deserializer<'de>>(
                d: D,
            ) -> ::core::result::Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as $crate::stored_text::__serde::Deserialize>::deserialize(d)?;
                s.parse()
                    .map_err(<D::Error as $crate::stored_text::__serde::de::Error>::custom)
            }
        }

        impl ::core::cmp::PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl ::core::cmp::PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

#[doc(hidden)]
pub use serde as __serde;

#[cfg(test)]
mod tests {
    stored_text_enum! {
        enum Light("light") {
            Red = "red",
            Green = "green",
        }
    }

    #[test]
    fn text_round_trips_through_every_form() {
        for l in Light::ALL {
            assert_eq!(l.as_str().parse::<Light>().unwrap(), l);
            assert_eq!(l.to_string(), l.as_str());
            assert_eq!(format!("{l:<6}|"), format!("{:<6}|", l.as_str()));
            let json = serde_json::to_string(&l).unwrap();
            assert_eq!(json, format!("\"{}\"", l.as_str()));
            assert_eq!(serde_json::from_str::<Light>(&json).unwrap(), l);
        }
    }

    #[test]
    fn unknown_text_is_refused_with_what_was_read() {
        let e = "blue".parse::<Light>().unwrap_err();
        assert_eq!(e.to_string(), "unknown light \"blue\"");
        assert!(serde_json::from_str::<Light>("\"blue\"").is_err());
        // Stored text is exact: no case folding, no trimming.
        assert!("Red".parse::<Light>().is_err());
        assert!(" red".parse::<Light>().is_err());
    }
}
