//! The one phone normaliser: a number as written in the export to E.164, or a reason.

use phonenumber::country;

/// Why a phone number was refused (never contains the number).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("not a phone number")]
    Unparseable,
    #[error("not a valid number for its region")]
    Invalid,
}

#[derive(Debug, Clone, Copy)]
pub struct PhoneNormaliser {
    default_country: country::Id,
}

impl PhoneNormaliser {
    /// `default_country` is used for numbers written without a `+country` prefix.
    pub fn new(default_country: country::Id) -> Self {
        Self { default_country }
    }

    /// E.164 (`+11234567890`) for a valid number; an invalid one is refused, never mangled.
    pub fn normalise(&self, text: &str) -> Result<String, PhoneError> {
        let number = phonenumber::parse(Some(self.default_country), text.trim())
            .map_err(|_| PhoneError::Unparseable)?;
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Invalid);
        }
        Ok(number.format().mode(phonenumber::Mode::E164).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> PhoneNormaliser {
        PhoneNormaliser::new(country::Id::US)
    }

    #[test]
    fn common_forms_become_e164() {
        for input in [
            "+1 626 555 0100",
            "(626) 555-0100",
            "626-555-0100",
            "626.555.0100",
            "6265550100",
            "1 626 555 0100",
            "+16265550100",
            "tel:+1-626-555-0100",
            " 626 555 0100 ",
        ] {
            assert_eq!(
                us().normalise(input).as_deref(),
                Ok("+16265550100"),
                "{input}"
            );
        }
        assert_eq!(
            us().normalise("+44 7911 123456").as_deref(),
            Ok("+447911123456")
        );
        assert_eq!(
            us().normalise("011 44 7911 123456").as_deref(),
            Ok("+447911123456")
        );
        let gb = PhoneNormaliser::new(country::Id::GB);
        assert_eq!(gb.normalise("07911 123456").as_deref(), Ok("+447911123456"));
    }

    #[test]
    fn invalid_numbers_are_refused_not_mangled() {
        // No US area code 123.
        assert_eq!(us().normalise("+11234567890"), Err(PhoneError::Invalid));
        assert_eq!(us().normalise("555-0100"), Err(PhoneError::Invalid));
        assert_eq!(us().normalise("626 555 01"), Err(PhoneError::Invalid));
        assert!(us().normalise("call me").is_err());
        assert!(us().normalise("").is_err());
    }
}
