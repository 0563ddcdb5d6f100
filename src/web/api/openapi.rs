//! The OpenAPI 3.1 document of `/api/v1`. Response schemas are derived by
//! utoipa from the very structs the handlers serialize (`model.rs`); the
//! paths and their parameters are built here from the same constants the
//! query parser uses (statuses, orders, themes…), so what the document
//! says is accepted is what the server accepts.

use utoipa::OpenApi;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, ParameterStyle, PathItem,
};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{InfoBuilder, PathsBuilder, Ref, Required, ServerBuilder};

use super::model::{
    Call, CallDetail, CallList, Change, Coded, ErrorBody, ErrorDetail, Links, Sighting, Source,
    SourceList, Territory,
};
use super::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::domain::{Audience, CallKind, Theme};
use crate::web::query::{ORDERS, STATUSES};

#[derive(OpenApi)]
#[openapi(components(schemas(
    Call,
    CallDetail,
    CallList,
    Change,
    Coded,
    ErrorBody,
    ErrorDetail,
    Links,
    Sighting,
    Source,
    SourceList,
    Territory
)))]
struct Schemas;

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn one_of(values: Vec<String>) -> ObjectBuilder {
    string().enum_values(Some(values))
}

fn query(name: &str, description: &str, schema: ObjectBuilder) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

fn repeated(
    name: &str,
    description: &str,
    values: Vec<String>,
) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .style(Some(ParameterStyle::Form))
        .explode(Some(true))
        .schema(Some(ArrayBuilder::new().items(one_of(values))))
        .build()
}

/// The catalogue's search parameters (the pages', feeds' and API's).
fn search_parameters() -> Vec<utoipa::openapi::path::Parameter> {
    let codes = |v: Vec<&str>| v.into_iter().map(str::to_string).collect::<Vec<_>>();
    let date = || string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)));
    vec![
        query(
            "q",
            "Mots cherchés dans le titre, le résumé et le financeur (accents ignorés).",
            string().max_length(Some(200)),
        ),
        repeated(
            "public",
            "Public visé (répétable : l'un d'eux).",
            codes(Audience::ALL.iter().map(|a| a.as_str()).collect()),
        ),
        query(
            "region",
            "Code INSEE de région : les appels qui la concernent, y compris nationaux.",
            one_of(
                crate::territory::regions()
                    .iter()
                    .map(|r| r.code.to_string())
                    .collect(),
            ),
        ),
        query(
            "departement",
            "Code de département : les appels qui le concernent, y compris régionaux et nationaux.",
            one_of(
                crate::territory::departments()
                    .iter()
                    .map(|d| d.code.to_string())
                    .collect(),
            ),
        ),
        query(
            "commune",
            "Code INSEE ou nom exact de commune : les appels qui la concernent (commune, EPCI, département, région, France).",
            string().max_length(Some(100)),
        ),
        repeated(
            "theme",
            "Thématique (répétable : l'une d'elles).",
            codes(Theme::ALL.iter().map(|t| t.as_str()).collect()),
        ),
        repeated(
            "type",
            "Type d'appel (répétable).",
            codes(CallKind::ALL.iter().map(|k| k.as_str()).collect()),
        ),
        repeated(
            "statut",
            "Statut (répétable ; par défaut ouvert et à venir ; `tous` pour tous).",
            {
                let mut v: Vec<String> = STATUSES.iter().map(|(c, _)| c.to_string()).collect();
                v.push("tous".into());
                v
            },
        ),
        query(
            "cloture_apres",
            "Date limite à partir de ce jour (heure de Paris).",
            date(),
        ),
        query(
            "cloture_avant",
            "Date limite au plus tard ce jour (heure de Paris).",
            date(),
        ),
        query(
            "tri",
            "Ordre : date limite la plus proche (défaut), plus récents, modifiés récemment.",
            one_of(ORDERS.iter().map(|(c, _)| c.to_string()).collect()),
        ),
    ]
}

fn json_response(description: &str, schema: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(schema)))
                .build(),
        )
        .header("ETag", HeaderBuilder::new().schema(string()).build())
        .header(
            "Last-Modified",
            HeaderBuilder::new().schema(string()).build(),
        )
        .build()
}

fn error(description: &str) -> Response {
    json_response(description, "ErrorBody")
}

fn not_modified() -> Response {
    ResponseBuilder::new()
        .description("Non modifié depuis la version détenue (If-None-Match, If-Modified-Since).")
        .build()
}

/// The document as JSON bytes, with `site` as its server.
pub fn document(site: &str) -> anyhow::Result<Vec<u8>> {
    let mut list = OperationBuilder::new()
        .operation_id(Some("listCalls"))
        .summary(Some("Rechercher des appels"))
        .description(Some(
            "Les appels publiés correspondant à la recherche, par pages. Paramètres inconnus : erreur 400.",
        ))
        .tag("appels");
    for p in search_parameters() {
        list = list.parameter(p);
    }
    let list = list
        .parameter(query(
            "limit",
            &format!("Appels par page (défaut {DEFAULT_LIMIT})."),
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(MAX_LIMIT)),
        ))
        .parameter(query(
            "cursor",
            "La valeur `next_cursor` de la page précédente (même recherche, même tri).",
            string().max_length(Some(512)),
        ))
        .response("200", json_response("Une page d'appels.", "CallList"))
        .response("304", not_modified())
        .response("400", error("Paramètre invalide ou inconnu."));
    let one = OperationBuilder::new()
        .operation_id(Some("getCall"))
        .summary(Some("Un appel, ses sources et son historique"))
        .tag("appels")
        .parameter(
            ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                .build(),
        )
        .response("200", json_response("L'appel.", "CallDetail"))
        .response(
            "301",
            ResponseBuilder::new()
                .description("Appel fusionné dans un autre : Location donne l'appel conservé.")
                .header("Location", HeaderBuilder::new().schema(string()).build())
                .build(),
        )
        .response("304", not_modified())
        .response("404", error("Appel inconnu, masqué ou rejeté."));
    let sources = OperationBuilder::new()
        .operation_id(Some("listSources"))
        .summary(Some("Les sources et leur état"))
        .tag("sources")
        .response("200", json_response("Les sources.", "SourceList"))
        .response("304", not_modified())
        .response("400", error("Paramètre inconnu."));
    let export_json = OperationBuilder::new()
        .operation_id(Some("exportJson"))
        .summary(Some("Tous les appels ouverts et à venir (JSON)"))
        .tag("export")
        .response(
            "200",
            ResponseBuilder::new()
                .description("Tableau d'appels.")
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(
                            ArrayBuilder::new().items(Ref::from_schema_name("Call")),
                        ))
                        .build(),
                )
                .build(),
        )
        .response("304", not_modified())
        .response("400", error("Paramètre inconnu."));
    let export_csv = OperationBuilder::new()
        .operation_id(Some("exportCsv"))
        .summary(Some(
            "Tous les appels ouverts et à venir (CSV, UTF-8, formules neutralisées)",
        ))
        .tag("export")
        .response(
            "200",
            ResponseBuilder::new()
                .description(format!("Colonnes : {}.", super::CSV_COLUMNS.join(", ")))
                .content(
                    "text/csv",
                    ContentBuilder::new().schema(Some(string())).build(),
                )
                .build(),
        )
        .response("304", not_modified())
        .response("400", error("Paramètre inconnu."));
    let spec = OperationBuilder::new()
        .operation_id(Some("openapi"))
        .summary(Some("Ce document"))
        .response(
            "200",
            ResponseBuilder::new()
                .description("Le document OpenAPI 3.1.")
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new()))
                        .build(),
                )
                .build(),
        );
    let mut doc = Schemas::openapi();
    doc.info = InfoBuilder::new()
        .title("Vigie — API des appels à projets pour les collectivités")
        .version("1")
        .description(Some(
            "Les appels à projets et à manifestation d'intérêt rassemblés par Vigie. \
             Lecture seule, sans authentification, CORS ouvert en GET. Chaque réponse \
             porte ETag et Last-Modified ; les erreurs sont du JSON en français.",
        ))
        .build();
    doc.servers = Some(vec![ServerBuilder::new().url(site).build()]);
    doc.paths = PathsBuilder::new()
        .path("/api/v1/calls", PathItem::new(HttpMethod::Get, list))
        .path("/api/v1/calls/{id}", PathItem::new(HttpMethod::Get, one))
        .path("/api/v1/sources", PathItem::new(HttpMethod::Get, sources))
        .path(
            "/api/v1/export.json",
            PathItem::new(HttpMethod::Get, export_json),
        )
        .path(
            "/api/v1/export.csv",
            PathItem::new(HttpMethod::Get, export_csv),
        )
        .path("/api/v1/openapi.json", PathItem::new(HttpMethod::Get, spec))
        .build();
    Ok(serde_json::to_vec_pretty(&doc)?)
}
