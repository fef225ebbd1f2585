//! The request step with the fakes of `crate::fakes`: the same answer whatever the account,
//! refusals only for what is not about the account, and no provider call before the answer.

use crate::{
    error::RequestError,
    fakes::{Kit, request_input as input},
};

#[tokio::test]
async fn every_account_gets_the_same_answer_and_no_provider_call_happens_before_it() {
    let kit = Kit::new("hosted", "link").await;
    for email in [
        "ada@example.com",
        "nobody@example.com",
        "bob@example.com",
        "not an address",
    ] {
        let accepted = kit.engine.request_reset(input(email)).await.unwrap();
        assert!(crate::FlowId::parse(&accepted.flow_id).is_some(), "{email}");
    }
    assert_eq!(kit.provider.calls("find_user_by_email"), 0);
    // The malformed address is recorded, not looked up.
    assert_eq!(kit.engine.run_jobs_once().await.unwrap().done, 4);
    assert_eq!(kit.provider.calls("find_user_by_email"), 3);
}

#[tokio::test]
async fn only_the_client_and_the_redirect_can_be_refused() {
    let kit = Kit::new("hosted", "link").await;
    let mut unknown = input("ada@example.com");
    unknown.client_id = "nobody-ios".into();
    assert!(matches!(
        kit.engine.request_reset(unknown).await,
        Err(RequestError::UnknownClient)
    ));
    let mut redirect = input("ada@example.com");
    redirect.redirect_uri = Some("acme://done/evil".into());
    assert!(matches!(
        kit.engine.request_reset(redirect).await,
        Err(RequestError::RedirectNotAllowed)
    ));
    let mut allowed = input("ada@example.com");
    allowed.redirect_uri = Some("acme://done".into());
    assert!(kit.engine.request_reset(allowed).await.is_ok());
}
