//! Conformance cases for the rows the reset engine and the admin API write: rate-limit
//! windows, the outbox and jobs, password history and API keys. Run by the `conformance!`
//! macro in `conformance.rs` against every backend.

use super::*;

pub(super) async fn rate_limits_count_atomically_per_window(store: &Store) {
    let bucket = RateBucket {
        tenant_id: None,
        key: "ip:203.0.113.9".into(),
    };
    let window = TimeDelta::minutes(1);
    let allowed = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (store, bucket, allowed) = (store.clone(), bucket.clone(), allowed.clone());
            tokio::spawn(async move {
                if store.hit(&bucket, window, 3, t0()).await.unwrap().allowed {
                    allowed.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(allowed.load(Ordering::SeqCst), 3);
    let next = store.hit(&bucket, window, 3, t0() + window).await.unwrap();
    assert!(next.allowed);
    assert_eq!(next.count, 1);
    assert!(next.resets_at > t0() + window);
    assert_eq!(store.purge_windows(t0() + window).await.unwrap(), 1);
}

pub(super) async fn outbox_and_jobs_are_claimed_once_per_lease(store: &Store) {
    let a = tenant(store, "acme").await;
    for n in 0..6 {
        store
            .enqueue_mail(NewMail {
                tenant_id: a.clone(),
                message_id: format!("<{n}@passgate>"),
                recipient: "ada@example.com".into(),
                body: blob(),
                created_at: t0(),
            })
            .await
            .unwrap();
    }
    let lease = TimeDelta::seconds(60);
    let (one, two) = tokio::join!(
        store.claim_mail(t0(), lease, 6),
        store.claim_mail(t0(), lease, 6)
    );
    let mut ids: Vec<MailId> = one
        .unwrap()
        .into_iter()
        .chain(two.unwrap())
        .map(|m| m.id)
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "every mail claimed exactly once");
    assert!(
        store.claim_mail(t0(), lease, 6).await.unwrap().is_empty(),
        "leased"
    );
    store.mark_mail_sent(ids[0], t0()).await.unwrap();
    store
        .reschedule_mail(ids[1], "421 try later", t0() + TimeDelta::seconds(30))
        .await
        .unwrap();
    store
        .mark_mail_dead(ids[2], "550 no such user")
        .await
        .unwrap();
    let later = store
        .claim_mail(t0() + TimeDelta::seconds(61), lease, 10)
        .await
        .unwrap();
    assert_eq!(later.len(), 4, "rescheduled + three expired leases");
    assert!(
        later
            .iter()
            .all(|m| m.attempts == 2 && m.status == MailStatus::Sending)
    );

    let job = store
        .enqueue_job(NewJob {
            tenant_id: a.clone(),
            client_id: cid("app"),
            kind: "reset-request".into(),
            payload: "{\"email\":\"ada@example.com\"}".into(),
            run_after: t0(),
            created_at: t0(),
        })
        .await
        .unwrap();
    let (one, two) = tokio::join!(
        store.claim_jobs(t0(), lease, 5),
        store.claim_jobs(t0(), lease, 5)
    );
    assert_eq!(one.unwrap().len() + two.unwrap().len(), 1);
    store
        .retry_job(job, "provider 503", t0() + TimeDelta::seconds(10))
        .await
        .unwrap();
    assert!(
        store
            .claim_jobs(t0() + TimeDelta::seconds(5), lease, 5)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store
        .claim_jobs(t0() + TimeDelta::seconds(10), lease, 5)
        .await
        .unwrap();
    assert_eq!(again[0].attempts, 2);
    assert_eq!(again[0].last_error.as_deref(), Some("provider 503"));
    store.complete_job(job, t0()).await.unwrap();
    assert_eq!(
        store.job(&a, job).await.unwrap().unwrap().status,
        JobStatus::Done
    );
    assert!(
        store
            .claim_jobs(t0() + TimeDelta::hours(1), lease, 5)
            .await
            .unwrap()
            .is_empty()
    );
}

pub(super) async fn history_keeps_the_newest_hashes(store: &Store) {
    let a = tenant(store, "acme").await;
    for n in 0..5i64 {
        store
            .record_password(
                &a,
                "u1",
                &format!("hash-{n}"),
                3,
                t0() + TimeDelta::seconds(n),
            )
            .await
            .unwrap();
    }
    let recent: Vec<String> = store
        .recent_hashes(&a, "u1", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.hash)
        .collect();
    assert_eq!(recent, ["hash-4", "hash-3", "hash-2"]);
}

pub(super) async fn api_keys_are_found_by_hash_and_revocable(store: &Store) {
    let a = tenant(store, "acme").await;
    let hash = Sha256Digest::of(b"pgk_secret");
    let id = store
        .create_api_key(NewApiKey {
            key_hash: hash,
            prefix: "pgk_secr".into(),
            role: ApiRole::TenantEditor,
            tenants: vec![a.clone()],
            label: "product owner".into(),
            owner_email_hash: Some(Sha256Digest::of(b"po@acme.example")),
            created_at: t0(),
        })
        .await
        .unwrap();
    let key = store.api_key_by_hash(&hash).await.unwrap().unwrap();
    assert_eq!(
        (key.id, key.role, key.tenants.clone()),
        (id, ApiRole::TenantEditor, vec![a])
    );
    assert_eq!(
        key.owner_email_hash,
        Some(Sha256Digest::of(b"po@acme.example"))
    );
    assert!(
        store
            .api_key_by_hash(&Sha256Digest::of(b"pgk_other"))
            .await
            .unwrap()
            .is_none()
    );
    store.touch_api_key(id, t0()).await.unwrap();
    assert!(store.revoke_api_key(id, t0()).await.unwrap());
    assert!(!store.revoke_api_key(id, t0()).await.unwrap());
    let listed = store.list_api_keys().await.unwrap();
    assert_eq!(listed[0].last_used_at, Some(t0()));
    assert_eq!(listed[0].revoked_at, Some(t0()));
}

fn admission(tenant: &TenantId, ip: &str, limits: [u32; 3]) -> Admission {
    let hit = |key: String, limit| BucketHit {
        bucket: RateBucket {
            tenant_id: Some(tenant.clone()),
            key,
        },
        window: TimeDelta::hours(1),
        limit,
    };
    let job = |payload: &str| NewJob {
        tenant_id: tenant.clone(),
        client_id: cid("app"),
        kind: "reset-request".into(),
        payload: payload.into(),
        run_after: t0(),
        created_at: t0(),
    };
    Admission {
        always: vec![
            hit(format!("request:ip:{ip}"), limits[0]),
            hit("request:account:ada".into(), limits[1]),
        ],
        then: vec![hit("request:tenant".into(), limits[2])],
        admitted: job("admitted"),
        refused: vec![
            job("refused:ip"),
            job("refused:account"),
            job("refused:tenant"),
        ],
    }
}

/// Issue 17 item 4: a request's buckets and its job in one transaction. The client and
/// account buckets always count; the tenant's only counts what both let through; the job
/// queued is the one for the first bucket over.
pub(super) async fn an_admission_counts_its_buckets_and_queues_its_job_together(store: &Store) {
    let a = tenant(store, "acme").await;
    let payloads =
        |jobs: Vec<Job>| -> Vec<String> { jobs.into_iter().map(|j| j.payload).collect() };
    // Within every limit: admitted.
    let first = store
        .admit(admission(&a, "ip1", [1, 3, 2]), t0())
        .await
        .unwrap();
    assert_eq!(first.over, None);
    // The same client again: its bucket is over; the account still counts, the tenant not.
    let second = store
        .admit(admission(&a, "ip1", [1, 3, 2]), t0())
        .await
        .unwrap();
    assert_eq!(second.over.map(|(i, _)| i), Some(0));
    // Another client: the account (now at 3 of 3) and the tenant (1 of 2) let it through.
    let third = store
        .admit(admission(&a, "ip2", [1, 3, 2]), t0())
        .await
        .unwrap();
    assert_eq!(
        third.over, None,
        "the refused request did not spend the tenant's budget"
    );
    let fourth = store
        .admit(admission(&a, "ip3", [1, 3, 2]), t0())
        .await
        .unwrap();
    assert_eq!(fourth.over.map(|(i, _)| i), Some(1), "the account is over");
    let fifth = store
        .admit(admission(&a, "ip4", [1, 9, 2]), t0())
        .await
        .unwrap();
    assert_eq!(fifth.over.map(|(i, _)| i), Some(2), "then the tenant");
    let (_, until) = fifth.over.unwrap();
    assert_eq!(
        until,
        t0() - TimeDelta::microseconds(t0().timestamp_micros() % 3_600_000_000)
            + TimeDelta::hours(1)
    );
    let jobs = store
        .claim_jobs(t0(), TimeDelta::minutes(1), 10)
        .await
        .unwrap();
    assert_eq!(
        payloads(jobs),
        [
            "admitted",
            "refused:ip",
            "admitted",
            "refused:account",
            "refused:tenant"
        ],
        "one job per request, for its outcome, in order"
    );
    // An admission whose job cannot be queued counts nothing.
    let mut broken = admission(&a, "ip9", [0, 9, 9]);
    broken.refused.clear();
    assert!(store.admit(broken, t0()).await.is_err());
    let again = store
        .admit(admission(&a, "ip9", [1, 99, 99]), t0())
        .await
        .unwrap();
    assert_eq!(
        again.over, None,
        "the failed admission's hit was rolled back"
    );
}

pub(super) async fn a_finished_job_writes_everything_with_its_done_mark_or_nothing(store: &Store) {
    let a = tenant(store, "acme").await;
    let queue = |n: u32| NewJob {
        tenant_id: a.clone(),
        client_id: cid("app"),
        kind: "reset-request".into(),
        payload: format!("{{\"n\":{n}}}"),
        run_after: t0(),
        created_at: t0(),
    };
    let mail = |n: u32| NewMail {
        tenant_id: a.clone(),
        message_id: format!("<job-{n}@passgate>"),
        recipient: "digest".into(),
        body: blob(),
        created_at: t0(),
    };
    let event = |outcome: &str| NewAuditEvent {
        tenant_id: Some(a.clone()),
        actor: "system".into(),
        action: "reset.issue".into(),
        outcome: outcome.into(),
        request_id: None,
        client_id: Some(cid("app")),
        details: serde_json::json!({}),
        created_at: t0(),
    };
    let old = token(&a, "old", TimeDelta::minutes(30));
    store.insert_token(old.clone()).await.unwrap();
    let (one, two, three) = (
        store.enqueue_job(queue(1)).await.unwrap(),
        store.enqueue_job(queue(2)).await.unwrap(),
        store.enqueue_job(queue(3)).await.unwrap(),
    );
    let lease = TimeDelta::minutes(1);
    assert_eq!(store.claim_jobs(t0(), lease, 10).await.unwrap().len(), 3);

    let new = token(&a, "new", TimeDelta::minutes(30));
    let issued = JobWrites {
        supersede: vec![Supersession {
            tenant_id: a.clone(),
            client_id: cid("app"),
            user_id: "auth0|1".into(),
        }],
        tokens: vec![new.clone()],
        mails: vec![mail(1)],
        audit: vec![event("mailed")],
    };
    let unknown = JobWrites {
        audit: vec![event("unknown_user")],
        ..JobWrites::default()
    };
    store
        .finish_jobs(
            vec![
                FinishedJob {
                    id: one,
                    writes: issued,
                },
                FinishedJob {
                    id: two,
                    writes: unknown,
                },
            ],
            t0(),
        )
        .await
        .unwrap();
    let superseded = store.lookup_token(&old.hash).await.unwrap().unwrap();
    assert!(
        superseded.invalidated_at.is_some(),
        "the earlier link is dead"
    );
    let fresh = store.lookup_token(&new.hash).await.unwrap().unwrap();
    assert!(
        fresh.invalidated_at.is_none(),
        "the supersession runs before the new row"
    );
    for job in [one, two] {
        assert_eq!(
            store.job(&a, job).await.unwrap().unwrap().status,
            JobStatus::Done
        );
    }
    let audit = store.tenant_audit(&a, 10, None).await.unwrap();
    let mut outcomes: Vec<&str> = audit.iter().map(|e| e.event.outcome.as_str()).collect();
    outcomes.sort_unstable();
    assert_eq!(outcomes, ["mailed", "unknown_user"]);

    // A job whose rows cannot be written (its token's digest is taken) writes nothing and
    // stays claimed, to be run again.
    let clash = JobWrites {
        tokens: vec![new.clone()],
        mails: vec![mail(3)],
        audit: vec![event("mailed-again")],
        ..JobWrites::default()
    };
    assert!(
        store
            .finish_jobs(
                vec![FinishedJob {
                    id: three,
                    writes: clash,
                }],
                t0(),
            )
            .await
            .is_err()
    );
    assert_eq!(
        store.job(&a, three).await.unwrap().unwrap().status,
        JobStatus::Running
    );
    assert_eq!(store.tenant_audit(&a, 10, None).await.unwrap().len(), 2);
    let mails = store.claim_mail(t0(), lease, 10).await.unwrap();
    assert_eq!(
        mails
            .iter()
            .map(|m| m.message_id.as_str())
            .collect::<Vec<_>>(),
        ["<job-1@passgate>"],
        "only the committed job's mail is queued"
    );

    // Mails the relay accepted together are marked sent together, with their audit events.
    store
        .mark_mails_sent(&[mails[0].id], vec![event("sent")], t0())
        .await
        .unwrap();
    let sent = store.mail(&a, mails[0].id).await.unwrap().unwrap();
    assert_eq!(sent.status, MailStatus::Sent);
    assert_eq!(sent.sent_at, Some(t0()));
    assert_eq!(store.tenant_audit(&a, 10, None).await.unwrap().len(), 3);
}

/// A group too large for one statement (hundreds of windows and jobs: several statements
/// per step) counts exactly as the same admissions one after another.
pub(super) async fn a_group_of_hundreds_counts_exactly_across_statements(store: &Store) {
    let a = tenant(store, "acme").await;
    // 300 clients, each twice: the second of each is over its client limit (1); of the 300
    // firsts, the tenant limit (250) lets the first 250 through.
    let group: Vec<(Admission, Timestamp)> = (0..600)
        .map(|i| {
            let ip = format!("198.51.{}.{}", i / 2 / 250, i / 2 % 250);
            (admission(&a, &ip, [1, 10_000, 250]), t0())
        })
        .collect();
    let together = store.admit_all(&group).await.unwrap();
    let over: Vec<Option<usize>> = together
        .iter()
        .map(|admitted| admitted.over.map(|(i, _)| i))
        .collect();
    let expected: Vec<Option<usize>> = (0..600)
        .map(|i| match (i % 2, i / 2) {
            (1, _) => Some(0),
            (_, first) if first < 250 => None,
            _ => Some(2),
        })
        .collect();
    assert_eq!(over, expected);
    let jobs = store
        .claim_jobs(t0(), TimeDelta::minutes(1), 1000)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 600, "every admission queued its job once");
    let admitted = jobs.iter().filter(|j| j.payload == "admitted").count();
    assert_eq!(admitted, 250);
    // The windows hold the group's counts: one more from client 0 is over; the account
    // window counted all 600.
    let next = store
        .admit(admission(&a, "198.51.0.0", [1, 600, 10_000]), t0())
        .await
        .unwrap();
    assert_eq!(next.over.map(|(i, _)| i), Some(0));
    let next = store
        .admit(admission(&a, "203.0.113.1", [1, 600, 10_000]), t0())
        .await
        .unwrap();
    assert_eq!(next.over.map(|(i, _)| i), Some(1), "the account's 601st");
}

pub(super) async fn admissions_committed_together_count_as_one_after_another(store: &Store) {
    let a = tenant(store, "acme").await;
    // The sequence of `an_admission_counts_its_buckets_and_queues_its_job_together`, in one
    // transaction: each admission sees the counts of those before it.
    let together = store
        .admit_all(&[
            (admission(&a, "ip1", [1, 3, 2]), t0()),
            (admission(&a, "ip1", [1, 3, 2]), t0()),
            (admission(&a, "ip2", [1, 3, 2]), t0()),
            (admission(&a, "ip3", [1, 3, 2]), t0()),
            (admission(&a, "ip4", [1, 9, 2]), t0()),
        ])
        .await
        .unwrap();
    let over: Vec<Option<usize>> = together
        .iter()
        .map(|admitted| admitted.over.map(|(i, _)| i))
        .collect();
    assert_eq!(over, [None, Some(0), None, Some(1), Some(2)]);
    let jobs = store
        .claim_jobs(t0(), TimeDelta::minutes(1), 10)
        .await
        .unwrap();
    let payloads: Vec<String> = jobs.into_iter().map(|j| j.payload).collect();
    assert_eq!(
        payloads,
        [
            "admitted",
            "refused:ip",
            "admitted",
            "refused:account",
            "refused:tenant"
        ]
    );
    // A later group continues the counts of the windows the first one left: the tenant has
    // counted 3 (the five less the two refused by their client or account buckets).
    let later = store
        .admit_all(&[
            (admission(&a, "ip6", [1, 9, 4]), t0()),
            (admission(&a, "ip7", [1, 9, 4]), t0()),
            (admission(&a, "ip6", [1, 9, 4]), t0()),
        ])
        .await
        .unwrap();
    let over: Vec<Option<usize>> = later.iter().map(|a| a.over.map(|(i, _)| i)).collect();
    assert_eq!(over, [None, Some(2), Some(0)]);
    // One that cannot be queued takes the whole group with it: nothing is counted.
    let mut broken = admission(&a, "ip9", [0, 9, 9]);
    broken.refused.clear();
    assert!(
        store
            .admit_all(&[(admission(&a, "ip8", [5, 9, 9]), t0()), (broken, t0())])
            .await
            .is_err()
    );
    let after = store
        .admit(admission(&a, "ip8", [1, 9, 9]), t0())
        .await
        .unwrap();
    assert_eq!(after.over, None, "the failed group counted nothing for ip8");
}

pub(super) async fn the_later_of_two_jobs_committed_together_supersedes_the_earlier(store: &Store) {
    let a = tenant(store, "acme").await;
    let queue = |n: u32| NewJob {
        tenant_id: a.clone(),
        client_id: cid("app"),
        kind: "reset-request".into(),
        payload: format!("{{\"n\":{n}}}"),
        run_after: t0(),
        created_at: t0(),
    };
    let earlier = store.enqueue_job(queue(1)).await.unwrap();
    let later = store.enqueue_job(queue(2)).await.unwrap();
    assert_eq!(
        store
            .claim_jobs(t0(), TimeDelta::minutes(1), 10)
            .await
            .unwrap()
            .len(),
        2
    );
    let issue = |id: JobId, raw: &str| FinishedJob {
        id,
        writes: JobWrites {
            supersede: vec![Supersession {
                tenant_id: a.clone(),
                client_id: cid("app"),
                user_id: "auth0|1".into(),
            }],
            tokens: vec![token(&a, raw, TimeDelta::minutes(30))],
            ..JobWrites::default()
        },
    };
    // Handed over in the order they finished: the later request first.
    store
        .finish_jobs(vec![issue(later, "second"), issue(earlier, "first")], t0())
        .await
        .unwrap();
    let link = |raw: &str| Sha256Digest::of(raw.as_bytes());
    let first = store.lookup_token(&link("first")).await.unwrap().unwrap();
    let second = store.lookup_token(&link("second")).await.unwrap().unwrap();
    assert!(first.invalidated_at.is_some(), "the earlier link is dead");
    assert!(second.invalidated_at.is_none(), "the newest link works");
}
