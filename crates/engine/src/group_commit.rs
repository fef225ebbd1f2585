//! Group commit: workers hand their finished items to one committer, which writes every item
//! waiting at that moment in one transaction. While it commits, the workers go on (nothing
//! waits for the slowest item of a round), and the next group forms behind it, so the commit
//! rate follows the load with one transaction per group, not per item.

use std::future::Future;

use tokio::sync::{mpsc, oneshot};

/// The workers' side: hand an item over and wait for its commit.
pub(crate) struct GroupCommit<T, R> {
    items: mpsc::UnboundedSender<(T, oneshot::Sender<R>)>,
}

impl<T, R> Clone for GroupCommit<T, R> {
    fn clone(&self) -> Self {
        Self {
            items: self.items.clone(),
        }
    }
}

impl<T, R> std::fmt::Debug for GroupCommit<T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl<T, R> GroupCommit<T, R> {
    /// Commits `item` with whatever else is waiting. If the committer is gone: the item back
    /// when it never took it (`Err(Some)`), or `Err(None)` when it stopped holding it.
    pub(crate) async fn commit(&self, item: T) -> Result<R, Option<T>> {
        let (done, result) = oneshot::channel();
        self.items
            .send((item, done))
            .map_err(|refused| Some(refused.0.0))?;
        result.await.map_err(|_| None)
    }
}

/// A group committer around `commit` (which answers one result per item, in order) and the
/// future that runs it. The future ends once every [`GroupCommit`] handle is dropped and the
/// last group is written; drive it alongside the workers (e.g. with `tokio::join!`).
pub(crate) fn group_commit<T, R, F, Fut>(
    mut commit: F,
) -> (GroupCommit<T, R>, impl Future<Output = ()>)
where
    F: FnMut(Vec<T>) -> Fut,
    Fut: Future<Output = Vec<R>>,
{
    let (items, mut waiting) = mpsc::unbounded_channel::<(T, oneshot::Sender<R>)>();
    let committer = async move {
        while let Some(first) = waiting.recv().await {
            let mut group = vec![first];
            while let Ok(more) = waiting.try_recv() {
                group.push(more);
            }
            let (items, answers): (Vec<T>, Vec<oneshot::Sender<R>>) = group.into_iter().unzip();
            for (answer, result) in answers.into_iter().zip(commit(items).await) {
                // A worker that stopped waiting loses only its answer.
                let _ = answer.send(result);
            }
        }
    };
    (GroupCommit { items }, committer)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[tokio::test]
    async fn items_waiting_together_are_committed_together_and_each_gets_its_answer() {
        let groups = Mutex::new(Vec::new());
        let (handle, committer) = group_commit(|items: Vec<u32>| {
            groups.lock().unwrap().push(items.clone());
            async move {
                // Long enough for the other workers to queue behind this group.
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                items.iter().map(|n| n * 10).collect::<Vec<_>>()
            }
        });
        let workers = futures::future::join_all((1..=5).map(|n| {
            let handle = handle.clone();
            async move { handle.commit(n).await }
        }));
        drop(handle);
        let (answers, ()) = tokio::join!(workers, committer);
        assert_eq!(answers, vec![Ok(10), Ok(20), Ok(30), Ok(40), Ok(50)]);
        let groups = groups.into_inner().unwrap();
        assert_eq!(groups.concat().len(), 5, "every item once: {groups:?}");
        assert!(
            groups.len() < 5,
            "items waiting together share a commit: {groups:?}"
        );
    }
}
