//! Tests of `territory`.

use super::label::{LABELS, canonical};
use super::*;

fn p(text: &str) -> Perimeter {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn counts_match_the_reference_data() {
    assert_eq!(regions().len(), 18);
    assert_eq!(departments().len(), 101);
    assert!(
        (34_500..35_500).contains(&communes().len()),
        "{}",
        communes().len()
    );
    assert!((1_200..1_300).contains(&epcis().len()), "{}", epcis().len());
    let total: u64 = communes().iter().map(|c| u64::from(c.population)).sum();
    assert!(
        (66_000_000..70_000_000).contains(&total),
        "population {total}"
    );
    let outside: Vec<_> = communes().iter().filter(|c| c.epci.is_none()).collect();
    assert!((1..10).contains(&outside.len()), "{outside:?}");
}

#[test]
fn known_facts() {
    let cergy = commune("95127").unwrap();
    assert_eq!(
        (cergy.name, cergy.department, cergy.region, cergy.epci),
        ("Cergy", "95", "11", Some("249500109"))
    );
    let ajaccio = commune("2A004").unwrap();
    assert_eq!(
        (ajaccio.name, ajaccio.department, ajaccio.region),
        ("Ajaccio", "2A", "94")
    );
    let sd = commune("97411").unwrap();
    assert_eq!(
        (sd.name, sd.department, sd.region),
        ("Saint-Denis", "974", "04")
    );
    assert_eq!(region("04").unwrap().name, "La Réunion");
    assert_eq!(region("94").unwrap().departments, ["2A", "2B"]);
    assert_eq!(department("95").unwrap().name, "Val-d'Oise");
    assert_eq!(department("976").unwrap().region, "06");
    let cp = epci("249500109").unwrap();
    assert_eq!(cp.name, "CA de Cergy-Pontoise");
    assert_eq!(cp.departments, ["78", "95"]);
    assert_eq!(cp.regions, ["11"]);
    assert!(cp.members.contains(&"95127") && cp.members.contains(&"78382"));
    assert_eq!(epci("200046977").unwrap().kind, "MET69");
    assert_eq!(epci("200069722").unwrap().regions, ["28", "32"]);
    // Arrondissements municipaux are not communes; lowercase Corsica works.
    assert!(commune("75101").is_none() && commune("69381").is_none());
    assert_eq!(commune("2a004").unwrap().insee, "2A004");
    assert!(commune("1234").is_none() && commune("2C004").is_none());
    assert_eq!(DATA.commune_by_former_code("78127").unwrap().insee, "95127");
}

#[test]
fn every_commune_lies_in_a_known_department_of_the_right_region() {
    for c in communes() {
        let d = department(c.department)
            .unwrap_or_else(|| panic!("{}: department {}", c.insee, c.department));
        assert_eq!(c.region, d.region, "{}", c.insee);
        assert!(region(c.region).is_some(), "{}", c.insee);
        assert!(c.insee.starts_with(&c.department[..2]), "{}", c.insee);
        assert_eq!(commune(c.insee), Some(c));
        if let Some(e) = c.epci {
            let e = epci(e).unwrap();
            assert!(e.members.contains(&c.insee));
            assert!(e.departments.contains(&c.department));
            assert!(e.regions.contains(&c.region));
        }
    }
    for d in departments() {
        assert!(region(d.region).unwrap().departments.contains(&d.code));
    }
    let members: usize = epcis().iter().map(|e| e.members.len()).sum();
    let in_epci = communes().iter().filter(|c| c.epci.is_some()).count();
    assert_eq!(members, in_epci);
}

#[test]
fn ancestors_go_from_the_perimeter_up_to_europe() {
    assert_eq!(
        ancestors(&p("commune:95127")),
        [
            "commune:95127",
            "epci:249500109",
            "department:95",
            "region:11",
            "france",
            "europe"
        ]
        .map(p)
    );
    assert_eq!(
        ancestors(&p("epci:249500109")),
        [
            "epci:249500109",
            "department:78",
            "department:95",
            "region:11",
            "france",
            "europe"
        ]
        .map(p)
    );
    assert_eq!(
        ancestors(&p("commune:29155")),
        [
            "commune:29155",
            "department:29",
            "region:53",
            "france",
            "europe"
        ]
        .map(p)
    );
    assert_eq!(
        ancestors(&p("department:2B")),
        ["department:2B", "region:94", "france", "europe"].map(p)
    );
    assert_eq!(
        ancestors(&Perimeter::France),
        [Perimeter::France, Perimeter::Europe]
    );
    assert_eq!(ancestors(&Perimeter::Europe), [Perimeter::Europe]);
    assert_eq!(
        ancestors(&p("commune:95999")),
        ["commune:95999", "france", "europe"].map(p)
    );
}

#[test]
fn contains_table() {
    let cases = [
        // (call, subscriber, fits)
        ("department:95", "commune:95127", true),
        ("region:11", "commune:95127", true),
        ("region:11", "department:95", true),
        ("france", "region:11", true),
        ("france", "commune:2A004", true),
        ("europe", "commune:97411", true),
        ("europe", "europe", true),
        ("france", "europe", false),
        ("region:04", "commune:97411", true),
        ("department:974", "commune:97411", true),
        ("region:04", "department:974", true),
        ("region:94", "commune:2A004", true),
        ("department:2B", "commune:2A004", false),
        ("epci:249500109", "commune:95127", true),
        ("epci:249500109", "commune:78382", true),
        ("department:78", "epci:249500109", true),
        ("department:95", "epci:249500109", true),
        ("department:92", "epci:249500109", false),
        ("region:28", "epci:200069722", true),
        ("region:32", "epci:200069722", true),
        ("region:11", "epci:200069722", false),
        ("commune:95127", "department:95", false),
        ("commune:95127", "epci:249500109", false),
        ("department:95", "region:11", false),
        ("epci:249500109", "department:95", false),
        ("department:78", "commune:95127", false),
        ("region:76", "commune:95127", false),
        ("commune:95127", "commune:95127", true),
        ("commune:95500", "commune:95127", false),
        ("epci:200054781", "commune:75056", true),
        ("epci:249500109", "commune:22016", false),
        ("department:95", "commune:95999", false),
        ("region:11", "department:20", false),
    ];
    for (call, sub, fits) in cases {
        assert_eq!(contains(&p(call), &p(sub)), fits, "{call} ⊇ {sub}");
    }
}

#[test]
fn contains_agrees_with_ancestors() {
    let mut all = vec![Perimeter::Europe, Perimeter::France];
    all.extend(regions().iter().map(|r| Perimeter::Region(r.code.into())));
    all.extend(
        departments()
            .iter()
            .map(|d| Perimeter::Department(d.code.into())),
    );
    all.extend(
        epcis()
            .iter()
            .step_by(7)
            .map(|e| Perimeter::Epci(e.siren.into())),
    );
    all.extend(
        communes()
            .iter()
            .step_by(97)
            .map(|c| Perimeter::Commune(c.insee.into())),
    );
    all.push(p("commune:95127"));
    all.push(p("epci:249500109"));
    for sub in &all {
        let up = ancestors(sub);
        for call in &all {
            assert_eq!(contains(call, sub), up.contains(call), "{call} ⊇ {sub}");
        }
    }
}

#[test]
fn from_label_table() {
    let cases: &[(&str, Option<&str>)] = &[
        ("Occitanie (Région)", Some("region:76")),
        ("Occitanie", Some("region:76")),
        ("Val-d'Oise", Some("department:95")),
        ("val d oise", Some("department:95")),
        ("VAL-D'OISE", Some("department:95")),
        ("Val d'Oise (95)", Some("department:95")),
        ("95 - Val-d'Oise", Some("department:95")),
        ("Val-d'Oise - 95", Some("department:95")),
        ("Val-d'Oise (78)", None),
        ("95", Some("department:95")),
        ("(95)", Some("department:95")),
        ("2A", Some("department:2A")),
        ("Corse-du-Sud", Some("department:2A")),
        ("Haute Corse", Some("department:2B")),
        ("Corse", Some("region:94")),
        ("Région Île-de-France", Some("region:11")),
        ("Ile de France", Some("region:11")),
        ("Région Sud", Some("region:93")),
        ("PACA", Some("region:93")),
        ("Provence-Alpes-Côte d'Azur", Some("region:93")),
        ("Région des Pays de la Loire", Some("region:52")),
        ("Département du Nord", Some("department:59")),
        ("Département de la Gironde", Some("department:33")),
        ("Département de l'Ain", Some("department:01")),
        (
            "Conseil départemental des Hauts-de-Seine",
            Some("department:92"),
        ),
        ("Département de La Réunion", Some("department:974")),
        ("La Réunion", Some("region:04")),
        ("Guadeloupe", Some("region:01")),
        ("Guadeloupe (Département)", Some("department:971")),
        ("Mayotte", Some("region:06")),
        ("Métropole de Lyon", Some("epci:200046977")),
        ("Métropole du Grand Paris", Some("epci:200054781")),
        ("CA de Cergy-Pontoise", Some("epci:249500109")),
        (
            "Communauté d'agglomération de Cergy-Pontoise",
            Some("epci:249500109"),
        ),
        ("Grand Lyon", Some("epci:200046977")),
        ("CC de l'Est Lyonnais (CCEL)", Some("epci:246900575")),
        ("CC de l'Est Lyonnais", Some("epci:246900575")),
        ("CC des Quatre Rivières", None),
        ("Métropole Aix-Marseille-Provence", Some("epci:200054807")),
        ("Métropole d'Aix-Marseille-Provence", Some("epci:200054807")),
        (
            "Communauté de communes du Pays de Pontchâteau Saint-Gildas-des-Bois",
            Some("epci:200000438"),
        ),
        ("Département : Val-d'Oise", Some("department:95")),
        ("Bretagne (53)", Some("region:53")),
        ("Occitanie (Département)", None),
        ("Nouvelle-Aquitaine, Occitanie", None),
        ("Paris", Some("department:75")),
        ("Ville de Paris", Some("commune:75056")),
        ("Commune de Cergy", Some("commune:95127")),
        ("Cergy (95)", Some("commune:95127")),
        ("Lyon", Some("commune:69123")),
        ("Saint-Denis", None),
        ("Saint-Denis (La Réunion)", Some("commune:97411")),
        ("Saint-Denis (93)", Some("commune:93066")),
        ("Saint-Denis (11)", Some("commune:11339")),
        ("Saint-Pierre (974)", Some("commune:97416")),
        ("Drom (01)", Some("commune:01150")),
        ("Château-Chinon (Ville) (58)", Some("commune:58062")),
        ("France", Some("france")),
        ("France métropolitaine", Some("france")),
        ("National", Some("france")),
        ("Europe", Some("europe")),
        ("Union européenne", Some("europe")),
        ("Europe (UE)", Some("europe")),
        ("Outre-mer", None),
        ("DROM", None),
        ("Alsace", None),
        ("Midi-Pyrénées", None),
        ("Grand Est (ex-Alsace)", None),
        ("", None),
        ("Atlantide", None),
        ("department:95", Some("department:95")),
        ("commune:95999", None),
    ];
    let mut failures = Vec::new();
    for (label, want) in cases {
        let got = from_label(label).map(|p| p.to_string());
        if got.as_deref() != *want {
            failures.push(format!("{label:?}: got {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_region_and_department_name_is_found() {
    for r in regions() {
        assert_eq!(
            from_label(r.name),
            Some(Perimeter::Region(r.code.into())),
            "{}",
            r.name
        );
    }
    for d in departments() {
        let want = if region(d.region).unwrap().departments.len() == 1 {
            Perimeter::Region(d.region.into())
        } else {
            Perimeter::Department(d.code.into())
        };
        assert_eq!(from_label(d.name), Some(want), "{}", d.name);
        let coded = format!("{} ({})", d.name, d.code);
        assert_eq!(
            from_label(&coded),
            Some(Perimeter::Department(d.code.into())),
            "{coded}"
        );
    }
}

#[test]
fn every_epci_name_is_found() {
    let mut names: HashMap<String, usize> = HashMap::new();
    for e in epcis() {
        *names.entry(canonical(e.name)).or_default() += 1;
    }
    let missed: Vec<_> = epcis()
        .iter()
        .filter(|e| {
            let got = from_label(e.name);
            if names[&canonical(e.name)] > 1 {
                got.is_some() // Homonyms: ambiguous.
            } else {
                got != Some(Perimeter::Epci(e.siren.into()))
            }
        })
        .map(|e| format!("{} {}", e.siren, e.name))
        .collect();
    assert!(missed.is_empty(), "{missed:#?}");
}

#[test]
fn communes_are_found_by_name_and_department() {
    let mut homonyms: HashMap<(String, &str), usize> = HashMap::new();
    for c in communes() {
        *homonyms
            .entry((canonical(c.name), c.department))
            .or_default() += 1;
    }
    let mut missed = Vec::new();
    for c in communes() {
        let key = canonical(c.name);
        let label = format!("{} ({})", c.name, c.department);
        let got = from_label(&label);
        let unique = homonyms[&(key.clone(), c.department)] == 1;
        // A region, department or EPCI of that name that fits the hint
        // wins over the commune (`Occitanie (76)` is the region).
        let place = got
            .as_ref()
            .is_some_and(|p| LABELS.places.get(&key).is_some_and(|v| v.contains(p)));
        if unique && got != Some(Perimeter::Commune(c.insee.into())) && !place {
            missed.push(format!("{label}: {got:?}"));
        }
    }
    assert!(missed.is_empty(), "{missed:#?}");
}

#[test]
fn validate_accepts_known_and_explains_unknown() {
    for ok in [
        "europe",
        "france",
        "region:11",
        "department:2A",
        "department:976",
        "epci:249500109",
        "commune:97411",
    ] {
        assert_eq!(validate(&p(ok)), Ok(()), "{ok}");
    }
    let cases = [
        (
            "region:82",
            "unknown region code in `region:82`",
            "Rhône-Alpes merged into region:84",
        ),
        (
            "region:95",
            "unknown region code",
            "did you mean department:95 (Val-d'Oise)",
        ),
        (
            "department:20",
            "unknown department code",
            "department:2A (Corse-du-Sud)",
        ),
        (
            "department:978",
            "unknown department code",
            "Saint-Martin is an overseas collectivity",
        ),
        (
            "department:96",
            "unknown department code",
            "did you mean department:",
        ),
        (
            "epci:249500190",
            "unknown EPCI SIREN",
            "did you mean epci:249500109 (CA de Cergy-Pontoise)",
        ),
        (
            "commune:78127",
            "unknown commune INSEE code",
            "outdated code of commune:95127 (Cergy",
        ),
        (
            "commune:20004",
            "unknown commune INSEE code",
            "commune:2A004 (Ajaccio",
        ),
        ("commune:95000", "unknown commune INSEE code", "postal code"),
        (
            "commune:95172",
            "unknown commune INSEE code",
            "did you mean commune:95127 (Cergy",
        ),
        (
            "commune:97801",
            "unknown commune INSEE code",
            "Saint-Martin is an overseas collectivity",
        ),
    ];
    for (text, head, hint) in cases {
        let err = validate(&p(text)).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(head) && msg.contains(hint), "{text}: {msg}");
        assert_eq!(err.perimeter, p(text));
    }
    let err = validate(&p("epci:999999999")).unwrap_err();
    assert_eq!(err.suggestion, None, "{err}");
}
