//! API Gateway REQUEST authorizer events, shaped like the documented samples.

use serde_json::{Value, json};

/// The method ARN used in REST events.
pub const METHOD_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/temps";
/// The route ARN used in HTTP API events.
pub const ROUTE_ARN: &str =
    "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/GET/temps";

fn client_cert(pem: &str) -> Value {
    json!({
        "clientCertPem": pem,
        // Hints only: deliberately not what the PEM says.
        "subjectDN": "CN=not-the-real-subject",
        "issuerDN": "CN=not-the-real-issuer",
        "serialNumber": "1",
        "validity": {"notBefore": "May 28 12:30:02 2019 GMT", "notAfter": "Aug  5 09:36:04 2031 GMT"}
    })
}

/// A REST API REQUEST authorizer event (`requestContext.identity.clientCert`).
pub fn rest(pem: Option<&str>) -> Value {
    let mut identity = json!({"sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"});
    if let Some(pem) = pem {
        identity["clientCert"] = client_cert(pem);
    }
    json!({
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "resource": "/temps",
        "path": "/temps",
        "httpMethod": "GET",
        "headers": {"Host": "api.example.com"},
        "queryStringParameters": {},
        "pathParameters": {},
        "stageVariables": {},
        "requestContext": {
            "path": "/test/temps",
            "accountId": "123456789012",
            "resourceId": "05c7jb",
            "stage": "test",
            "requestId": "ach3c2d7-8e7f-4e6d-9b1c-5e7c1f3b5d6a",
            "extendedRequestId": "RZ3hNEQ0IAMF1iw=",
            "identity": identity,
            "resourcePath": "/temps",
            "httpMethod": "GET",
            "apiId": "abcdef123"
        }
    })
}

/// An HTTP API payload 2.0 authorizer event (`requestContext.authentication.clientCert`).
pub fn http_v2(pem: Option<&str>) -> Value {
    let mut ctx = json!({
        "accountId": "123456789012",
        "apiId": "abcdef123",
        "domainName": "api.example.com",
        "http": {"method": "GET", "path": "/temps", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
        "requestId": "JKJaXmPLvHcESHA=",
        "routeKey": "GET /temps",
        "stage": "$default",
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1_583_348_638_390_i64
    });
    if let Some(pem) = pem {
        ctx["authentication"] = json!({"clientCert": client_cert(pem)});
    }
    json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": ROUTE_ARN,
        "identitySource": [],
        "routeKey": "GET /temps",
        "rawPath": "/temps",
        "rawQueryString": "",
        "headers": {"host": "api.example.com"},
        "requestContext": ctx
    })
}

/// The authorizer context our authorizer's Allow sets, for a device.
pub fn allow_context(subject_dn: &str, issuer_dn: &str, serial: &str) -> Value {
    json!({
        "subjectDn": subject_dn,
        "issuerDn": issuer_dn,
        "serialNumber": serial,
        "fingerprintSha256": format!("{serial:0>64}"),
        "issuer": "devices",
        // A stand-in for the SHA-256 of the two DER names (the authorizer's):
        // a function of the names, as the real one is.
        "nameSha256": format!("{issuer_dn}\u{0}{subject_dn}")
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    })
}

/// A Lambda proxy event as API Gateway sends it to the backend once the
/// authorizer has allowed the request, in either payload format.
#[derive(Clone, Debug)]
pub struct ProxyEvent {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    base64: bool,
    context: Option<Value>,
    stage: String,
}

/// The API's routes: other paths reach the backend only through a greedy
/// `{proxy+}` resource (REST) or the `$default` route (HTTP API).
const ROUTES: [&str; 2] = ["/temps", "/whoami"];

impl ProxyEvent {
    /// A request with no body and no authorizer context.
    pub fn new(method: &str, path: &str) -> Self {
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            headers: vec![("User-Agent".into(), "curl/8.5.0".into())],
            body: None,
            base64: false,
            context: None,
            stage: "prod".into(),
        }
    }

    /// A JSON body, with its content type.
    pub fn json(self, body: &str) -> Self {
        self.header("Content-Type", "application/json").body(body)
    }

    /// A body as is.
    pub fn body(mut self, body: &str) -> Self {
        self.body = Some(body.to_owned());
        self
    }

    /// A body API Gateway base64-encoded (binary media types).
    pub fn base64_body(mut self, encoded: &str) -> Self {
        self.body = Some(encoded.to_owned());
        self.base64 = true;
        self
    }

    /// A request header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The authorizer context (see [`allow_context`]).
    pub fn context(mut self, context: Value) -> Self {
        self.context = Some(context);
        self
    }

    /// The stage name (`$default` for an HTTP API's default stage).
    pub fn stage(mut self, stage: &str) -> Self {
        self.stage = stage.to_owned();
        self
    }

    fn known_route(&self) -> bool {
        ROUTES.contains(&self.path.as_str())
    }

    fn cert() -> Value {
        json!({
            "clientCertPem": "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----",
            "subjectDN": "CN=sensor-1",
            "issuerDN": "CN=Devices CA",
            "serialNumber": "a1:b2",
            "validity": {"notBefore": "Nov 20 00:00:00 2026 GMT", "notAfter": "Nov 20 00:00:00 2027 GMT"}
        })
    }

    /// REST API Lambda proxy integration event (payload 1.0). The context
    /// sits at `requestContext.authorizer.<key>`.
    pub fn rest(&self) -> Value {
        let (resource, path_parameters) = if self.known_route() {
            (self.path.clone(), Value::Null)
        } else {
            (
                "/{proxy+}".to_owned(),
                json!({"proxy": self.path.trim_start_matches('/')}),
            )
        };
        let headers: serde_json::Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let multi: serde_json::Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), json!([v])))
            .collect();
        let mut authorizer = self.context.clone().unwrap_or(Value::Null);
        if let Some(a) = authorizer.as_object_mut() {
            a.insert("principalId".into(), json!("a1b2"));
            a.insert("integrationLatency".into(), json!(12));
        }
        json!({
            "resource": resource,
            "path": self.path,
            "httpMethod": self.method,
            "headers": headers,
            "multiValueHeaders": multi,
            "queryStringParameters": null,
            "multiValueQueryStringParameters": null,
            "pathParameters": path_parameters,
            "stageVariables": null,
            "requestContext": {
                "resourceId": "2gxmpl",
                "resourcePath": resource,
                "httpMethod": self.method,
                "extendedRequestId": "lBQ4-HxmpIAFsFg=",
                "requestTime": "24/Nov/2026:12:00:00 +0000",
                "path": format!("/{}{}", self.stage, self.path),
                "accountId": "123456789012",
                "protocol": "HTTP/1.1",
                "stage": self.stage,
                "domainPrefix": "api",
                "requestTimeEpoch": 1_795_521_600_000_i64,
                "requestId": "e6f3f8b1-52c3-4f1a-9a1e-2b8f0e6a8c11",
                "identity": {
                    "sourceIp": "203.0.113.7",
                    "userAgent": "curl/8.5.0",
                    "clientCert": Self::cert()
                },
                "domainName": "api.example.com",
                "apiId": "abcdef123",
                "authorizer": authorizer
            },
            "body": self.body,
            "isBase64Encoded": self.base64
        })
    }

    /// HTTP API payload 2.0 event. The context sits at
    /// `requestContext.authorizer.lambda.<key>`; headers are lower-case.
    pub fn http_v2(&self) -> Value {
        let route_key = if self.known_route() {
            format!("{} {}", self.method, self.path)
        } else {
            "$default".to_owned()
        };
        let raw_path = if self.stage == "$default" {
            self.path.clone()
        } else {
            format!("/{}{}", self.stage, self.path)
        };
        let headers: serde_json::Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), json!(v)))
            .collect();
        let mut ctx = json!({
            "accountId": "123456789012",
            "apiId": "abcdef123",
            "authentication": {"clientCert": Self::cert()},
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {
                "method": self.method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "curl/8.5.0"
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": route_key,
            "stage": self.stage,
            "time": "24/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1_795_521_600_000_i64
        });
        if let Some(context) = &self.context {
            ctx["authorizer"] = json!({"lambda": context});
        }
        let mut event = json!({
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": raw_path,
            "rawQueryString": "",
            "headers": headers,
            "requestContext": ctx,
            "isBase64Encoded": self.base64
        });
        if let Some(body) = &self.body {
            event["body"] = json!(body);
        }
        event
    }
}
