//! The alert form (sign-up and "manage my alert"): its fields as posted,
//! their validation into a [`Profile`] with French messages next to each
//! field, and what the template needs to show it again.

use serde::Serialize;

use crate::domain::{Audience, Theme};
use crate::subscribers::model::{
    EmailAddress, FieldError, Frequency, Profile, parse_keywords, parse_name, parse_territory,
    weekday_code,
};
use crate::web::views::{Choice, audience_label};

/// The audiences a collectivity can sign up as.
pub const AUDIENCES: &[Audience] = &[
    Audience::Commune,
    Audience::Epci,
    Audience::Department,
    Audience::Region,
    Audience::Special,
    Audience::PublicOrg,
];

const WEEKDAYS: &[(&str, &str)] = &[
    ("monday", "lundi"),
    ("tuesday", "mardi"),
    ("wednesday", "mercredi"),
    ("thursday", "jeudi"),
    ("friday", "vendredi"),
    ("saturday", "samedi"),
    ("sunday", "dimanche"),
];

/// The form's values as posted (or as stored, for the manage page).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Fields {
    pub email: String,
    pub nom: String,
    pub public: String,
    pub territoire: String,
    pub themes: Vec<String>,
    pub mots_cles: String,
    pub frequence: String,
    pub jour: String,
}

impl Fields {
    /// From a posted `application/x-www-form-urlencoded` body; unknown
    /// fields are ignored, repeated `theme` fields collected.
    pub fn from_pairs(pairs: &[(String, String)]) -> Fields {
        let mut f = Fields::default();
        for (k, v) in pairs {
            match k.as_str() {
                "email" => f.email = v.clone(),
                "nom" => f.nom = v.clone(),
                "public" => f.public = v.clone(),
                "territoire" => f.territoire = v.clone(),
                "theme" => f.themes.push(v.clone()),
                "mots_cles" => f.mots_cles = v.clone(),
                "frequence" => f.frequence = v.clone(),
                "jour" => f.jour = v.clone(),
                _ => {}
            }
        }
        f
    }

    /// A stored profile shown in the form.
    pub fn of(p: &Profile) -> Fields {
        Fields {
            email: p.email.to_string(),
            nom: p.name.clone(),
            public: p.audience.as_str().to_string(),
            territoire: p.territory.to_string(),
            themes: p.themes.iter().map(|t| t.as_str().to_string()).collect(),
            mots_cles: p.keywords.join(", "),
            frequence: match p.frequency {
                Frequency::Daily => "quotidienne".into(),
                Frequency::Weekly(_) => "hebdomadaire".into(),
            },
            jour: p
                .frequency
                .weekday()
                .map(|d| weekday_code(d).to_string())
                .unwrap_or_default(),
        }
    }

    /// The profile these fields describe, or a French message per field in
    /// error (field name → message), in form order.
    pub fn to_profile(&self) -> Result<Profile, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let email = EmailAddress::parse(&self.email)
            .map_err(|_| {
                errors.push((
                    "email",
                    "Adresse électronique invalide : elle doit avoir la forme nom@domaine.fr."
                        .to_string(),
                ))
            })
            .ok();
        let name = parse_name(&self.nom)
            .map_err(|e| errors.push(("nom", french_name_error(&e, &self.nom))))
            .ok();
        let audience = AUDIENCES
            .iter()
            .copied()
            .find(|a| a.as_str() == self.public.trim());
        if audience.is_none() {
            errors.push(("public", "Choisissez le type de votre collectivité.".into()));
        }
        let territory = audience.and_then(|a| {
            parse_territory(&self.territoire, a)
                .map_err(|_| {
                    errors.push((
                        "territoire",
                        if self.territoire.trim().is_empty() {
                            "Indiquez votre territoire.".to_string()
                        } else {
                            "Territoire inconnu : indiquez le nom ou le code INSEE de la commune, \
                             le numéro SIREN de l'intercommunalité, ou le nom du département ou de \
                             la région (par exemple « Cergy », « 95127 » ou « Val-d'Oise »)."
                                .to_string()
                        },
                    ))
                })
                .ok()
        });
        let mut themes = Vec::new();
        for code in &self.themes {
            match Theme::ALL.iter().find(|t| t.as_str() == code.trim()) {
                Some(t) if !themes.contains(t) => themes.push(*t),
                Some(_) => {}
                None => errors.push(("themes", "Thématique inconnue.".into())),
            }
        }
        let keywords = parse_keywords(self.mots_cles.split([',', ';', '\n']))
            .map_err(|e| errors.push(("mots_cles", french_keyword_error(&e))))
            .ok();
        let weekly = self.frequence.trim() == "hebdomadaire";
        let day = weekly.then_some(self.jour.as_str());
        let frequency = match (self.frequence.trim(), day) {
            ("quotidienne" | "hebdomadaire", _) => Frequency::parse(
                if weekly { "weekly" } else { "daily" },
                day.filter(|d| WEEKDAYS.iter().any(|(code, _)| code == d)),
            )
            .map_err(|_| {
                errors.push(("jour", "Choisissez le jour de l'envoi hebdomadaire.".into()))
            })
            .ok(),
            _ => {
                errors.push(("frequence", "Choisissez la fréquence des alertes.".into()));
                None
            }
        };
        match (email, name, audience, territory, keywords, frequency) {
            (
                Some(email),
                Some(name),
                Some(audience),
                Some(territory),
                Some(keywords),
                Some(frequency),
            ) if errors.is_empty() => Ok(Profile {
                email,
                name,
                audience,
                territory,
                themes,
                keywords,
                frequency,
            }),
            _ => Err(errors),
        }
    }
}

fn french_name_error(e: &FieldError, raw: &str) -> String {
    if raw.trim().is_empty() {
        "Indiquez le nom de votre collectivité.".into()
    } else if e.message.contains("longer") {
        "Ce nom est trop long.".into()
    } else {
        "Ce nom contient des caractères non acceptés.".into()
    }
}

fn french_keyword_error(e: &FieldError) -> String {
    if e.message.starts_with("at most") {
        format!(
            "Indiquez au plus {} mots-clés.",
            crate::subscribers::model::MAX_KEYWORDS
        )
    } else {
        "Un mot-clé n'est pas accepté : utilisez des mots (lettres ou chiffres), séparés par des \
         virgules ; une étoile à la fin cherche le début d'un mot (numéri*)."
            .into()
    }
}

/// What the form template shows: the values, the pickers, the errors.
#[derive(Debug, Serialize)]
pub struct FormView {
    pub fields: Fields,
    pub audiences: Vec<Choice>,
    pub themes: Vec<Choice>,
    pub weekdays: Vec<Choice>,
    pub errors: Vec<FieldMessage>,
}

#[derive(Debug, Serialize)]
pub struct FieldMessage {
    pub field: &'static str,
    pub message: String,
}

impl FormView {
    pub fn new(fields: Fields, errors: Vec<(&'static str, String)>) -> FormView {
        let audiences = AUDIENCES
            .iter()
            .map(|a| Choice {
                code: a.as_str().to_string(),
                label: audience_label(*a).to_string(),
                checked: fields.public == a.as_str(),
            })
            .collect();
        let themes = Theme::ALL
            .iter()
            .map(|t| Choice {
                code: t.as_str().to_string(),
                label: t.label().to_string(),
                checked: fields.themes.iter().any(|c| c == t.as_str()),
            })
            .collect();
        let weekdays = WEEKDAYS
            .iter()
            .map(|(code, label)| Choice {
                code: code.to_string(),
                label: label.to_string(),
                checked: fields.jour == *code,
            })
            .collect();
        FormView {
            fields,
            audiences,
            themes,
            weekdays,
            errors: errors
                .into_iter()
                .map(|(field, message)| FieldMessage { field, message })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Fields {
        Fields {
            email: "mairie@cergy.fr".into(),
            nom: "Mairie de Cergy".into(),
            public: "commune".into(),
            territoire: "95127".into(),
            themes: vec!["numerique".into()],
            mots_cles: "archives, fibre*".into(),
            frequence: "hebdomadaire".into(),
            jour: "monday".into(),
        }
    }

    #[test]
    fn valid_fields_make_a_profile_and_a_stored_profile_shows_the_same_fields() {
        let p = valid().to_profile().unwrap();
        assert_eq!(p.keywords, vec!["archives", "fibre*"]);
        assert_eq!(p.frequency, Frequency::Weekly(chrono::Weekday::Mon));
        let back = Fields::of(&p);
        assert_eq!(back.to_profile().unwrap(), p);
    }

    #[test]
    fn every_wrong_field_gets_its_own_french_message() {
        let f = Fields {
            email: "pas une adresse".into(),
            nom: " ".into(),
            public: "particulier".into(),
            territoire: "Atlantide".into(),
            themes: vec!["astrologie".into()],
            mots_cles: "***".into(),
            frequence: "horaire".into(),
            jour: String::new(),
        };
        let errors = f.to_profile().unwrap_err();
        let fields: Vec<_> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            ["email", "nom", "public", "themes", "mots_cles", "frequence"]
        );
        let mut g = valid();
        g.territoire = "Atlantide".into();
        g.jour = "someday".into();
        let errors = g.to_profile().unwrap_err();
        assert_eq!(
            errors.iter().map(|(f, _)| *f).collect::<Vec<_>>(),
            ["territoire", "jour"]
        );
        assert!(errors[0].1.contains("Territoire inconnu"));
    }

    proptest::proptest! {
        #[test]
        fn any_posted_body_gives_a_profile_or_messages_never_a_panic(
            pairs in proptest::collection::vec(("[a-z_]{1,10}", "\\PC{0,40}"), 0..12)
        ) {
            let pairs: Vec<(String, String)> = pairs;
            let f = Fields::from_pairs(&pairs);
            match f.to_profile() {
                Ok(p) => proptest::prop_assert!(!p.name.is_empty()),
                Err(errors) => proptest::prop_assert!(!errors.is_empty()),
            }
        }
    }
}
