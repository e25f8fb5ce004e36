use super::{Cli, Command, Parser as _, server};

#[test]
fn the_identity_source_defaults_to_the_deployed_cache_key_and_a_given_one_replaces_it() {
    // server::default_identity_sources is infra/api-gateway.json's (its own test says so).
    let Command::Dev(dev) = Cli::try_parse_from(["gateway", "dev"]).unwrap().command else {
        panic!("not dev");
    };
    assert_eq!(
        dev.common.identity_source,
        server::default_identity_sources()
    );
    let given = [
        "gateway",
        "dev",
        "--identity-source",
        "method.request.header.X-Device",
    ];
    let Command::Dev(dev) = Cli::try_parse_from(given).unwrap().command else {
        panic!("not dev");
    };
    assert_eq!(
        dev.common.identity_source,
        ["method.request.header.X-Device"]
    );
}
