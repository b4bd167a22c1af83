//! `Op`: the answer of one storage operation, ready at once or later.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::session::SessionError;

/// The answer of one storage operation: a future that is either already
/// resolved, or a boxed future.
///
/// The memory backend answers every call synchronously, and a boxed future
/// per call would cost a Get an allocation and an indirect poll
/// (BENCHMARKS.md, rows 1 and 2), so its answer is `Ready`: no allocation,
/// and a transport that finds it ready does not even wait. A backend that
/// waits (an fsync with `--fsync always`, a network round trip) answers
/// `Boxed`.
#[must_use = "an operation's answer says whether it happened"]
pub enum Op<T> {
    Ready(Option<Result<T, SessionError>>),
    Boxed(Pin<Box<dyn Future<Output = Result<T, SessionError>> + Send>>),
}

impl<T> Op<T> {
    /// An answer known now.
    pub fn ready(result: Result<T, SessionError>) -> Self {
        Op::Ready(Some(result))
    }

    /// An answer `future` will give.
    pub fn boxed(future: impl Future<Output = Result<T, SessionError>> + Send + 'static) -> Self {
        Op::Boxed(Box::pin(future))
    }

    /// The answer, if it is known without waiting; otherwise the operation
    /// back, to be awaited.
    pub fn now(self) -> Result<Result<T, SessionError>, Self> {
        match self {
            Op::Ready(Some(result)) => Ok(result),
            other => Err(other),
        }
    }

    /// The answer turned into another by `f`, which runs once it is known.
    pub fn map<U>(self, f: impl FnOnce(T) -> U + Send + 'static) -> Op<U>
    where
        T: Send + 'static,
    {
        match self.now() {
            Ok(result) => Op::ready(result.map(f)),
            Err(later) => Op::boxed(async move { later.await.map(f) }),
        }
    }

    /// `self`, and once it succeeded, `then` (which runs only then): two
    /// operations as one answer.
    pub fn and_then<U>(self, then: impl FnOnce(T) -> Op<U> + Send + 'static) -> Op<U>
    where
        T: Send + 'static,
        U: Send + 'static,
    {
        match self.now() {
            Ok(Ok(value)) => then(value),
            Ok(Err(e)) => Op::ready(Err(e)),
            Err(later) => Op::boxed(async move { then(later.await?).await }),
        }
    }
}

impl<T> From<Result<T, SessionError>> for Op<T> {
    fn from(result: Result<T, SessionError>) -> Self {
        Op::ready(result)
    }
}

// The boxed future is `Unpin` (it is pinned in its box), and a ready
// answer is moved out of its `Option`, never pinned.
impl<T> Unpin for Op<T> {}

impl<T> Future for Op<T> {
    type Output = Result<T, SessionError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Op::Ready(answer) => {
                Poll::Ready(answer.take().expect("an Op is polled after it resolved"))
            }
            Op::Boxed(future) => future.as_mut().poll(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_ready_answer_is_known_now_and_awaits_to_itself() {
        let op: Op<u32> = Op::ready(Ok(7));
        assert!(matches!(
            Op::ready(Ok(1)).map(|n: u32| n + 1).now(),
            Ok(Ok(2))
        ));
        assert_eq!(op.await, Ok(7));
    }

    #[tokio::test]
    async fn a_boxed_answer_is_not_known_now_but_awaits() {
        let op: Op<u32> = Op::boxed(async { Ok(3) });
        let later = op.now().expect_err("a boxed answer waits");
        let chained = later.and_then(|n| Op::ready(Ok(n * 2)));
        assert_eq!(chained.await, Ok(6));
    }

    #[tokio::test]
    async fn a_failure_stops_a_chain() {
        let op: Op<u32> = Op::ready(Err(SessionError::NotFound));
        let chained = op.and_then(|_| -> Op<u32> { unreachable!("not run after a failure") });
        assert_eq!(chained.await, Err(SessionError::NotFound));
    }
}
