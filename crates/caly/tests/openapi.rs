//! `/openapi.json` is valid OpenAPI 3.1 and covers every route the router serves.

mod support;

use support::{Engine, TestApp};

async fn document(app: &TestApp) -> serde_json::Value {
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let json = document(&app).await;
    let spec = oas3::from_json(json.to_string()).expect("parses as OpenAPI 3.1");
    assert!(spec.openapi.starts_with("3.1"), "{}", spec.openapi);
    assert_eq!(spec.info.version, env!("CARGO_PKG_VERSION"));

    let mut operation_ids = std::collections::HashSet::new();
    for (path, item) in spec.paths.iter().flatten() {
        for (method, operation) in item.methods() {
            let id = operation.operation_id.clone().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(operation_ids.insert(id.clone()), "duplicate operationId {id}");
            assert!(!operation.responses(&spec).is_empty(), "{method} {path} documents no response");
        }
    }
    // Every schema reference points at a component that exists.
    let text = json.to_string();
    for reference in text.split("\"$ref\":\"").skip(1).map(|r| r.split('"').next().unwrap()) {
        let name =
            reference.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("external ref {reference}"));
        assert!(json["components"]["schemas"].get(name).is_some(), "dangling $ref {reference}");
    }
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let json = document(&app).await;
    let paths = json["paths"].as_object().unwrap();
    assert!(paths.len() >= 6, "{paths:?}");
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let request = app.client.request(method.to_uppercase().parse().unwrap(), app.url(path));
            let response = request.bearer_auth(support::HEALTH_TOKEN).send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            assert_ne!(status, 405, "{method} {path}");
            assert!(!body.contains("No resource matches this path"), "{method} {path} reached the fallback");
        }
    }
}

/// The other direction: routes are only ever registered through utoipa's `routes!`, which
/// documents them, so a plain `.route("/path"…` in the server's source is an undocumented route.
#[test]
fn no_route_is_registered_without_documentation() {
    let mut offenders = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).unwrap();
                for (n, line) in source.lines().enumerate() {
                    let registers = [".route(\"", ".route_service(\"", ".nest(\"", ".nest_service(\""];
                    if registers.iter().any(|r| line.contains(r)) {
                        offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(offenders.is_empty(), "undocumented routes:\n{}", offenders.join("\n"));
}
