//! The job-lease contract: a named role has at most one holder, passes on when its lease expires, and is freed at
//! once by its holder.
//!
//! Every case takes fresh [`QueuePorts`].

use std::time::Duration;

use chrono::TimeDelta;
use uuid::Uuid;

use crate::QueuePorts;
use crate::fixtures::at;

const TTL: Duration = Duration::from_secs(60);
const ROLE: &str = "overdue-scan";

/// While one holder's lease runs, nobody else takes the role; the holder renews it.
pub async fn a_role_has_one_holder_at_a_time(ports: QueuePorts) {
    // Arrange
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());

    // Act
    let a_takes = ports.job_lease.try_hold(ROLE, a, TTL, at(0)).await.expect("hold");
    let b_tries = ports.job_lease.try_hold(ROLE, b, TTL, at(0) + TimeDelta::seconds(30)).await.expect("hold");
    let a_renews = ports.job_lease.try_hold(ROLE, a, TTL, at(0) + TimeDelta::seconds(50)).await.expect("hold");
    let b_again = ports.job_lease.try_hold(ROLE, b, TTL, at(0) + TimeDelta::seconds(90)).await.expect("hold");
    let other_role = ports.job_lease.try_hold("another-job", b, TTL, at(0)).await.expect("hold");

    // Assert
    assert!(a_takes, "the first holder takes it");
    assert!(!b_tries, "another holder does not while the lease runs");
    assert!(a_renews, "the holder renews it");
    assert!(!b_again, "the renewal extended the lease");
    assert!(other_role, "roles are independent");
}

/// A lease that expired (its holder died) passes to the next holder who asks.
pub async fn an_expired_lease_passes_to_another_holder(ports: QueuePorts) {
    // Arrange
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    assert!(ports.job_lease.try_hold(ROLE, a, TTL, at(0)).await.expect("hold"));

    // Act
    let b_takes = ports.job_lease.try_hold(ROLE, b, TTL, at(2)).await.expect("hold");
    let a_back = ports.job_lease.try_hold(ROLE, a, TTL, at(2) + TimeDelta::seconds(1)).await.expect("hold");

    // Assert
    assert!(b_takes, "the expired role passes on");
    assert!(!a_back, "the old holder has lost it");
}

/// Releasing frees the role at once, but only its holder can release it.
pub async fn release_frees_the_role_for_its_holder_only(ports: QueuePorts) {
    // Arrange
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    assert!(ports.job_lease.try_hold(ROLE, a, TTL, at(0)).await.expect("hold"));

    // Act
    ports.job_lease.release(ROLE, b).await.expect("release by a stranger");
    let b_after_stranger = ports.job_lease.try_hold(ROLE, b, TTL, at(0)).await.expect("hold");
    ports.job_lease.release(ROLE, a).await.expect("release");
    let b_after_release = ports.job_lease.try_hold(ROLE, b, TTL, at(0)).await.expect("hold");

    // Assert
    assert!(!b_after_stranger, "a stranger's release changes nothing");
    assert!(b_after_release, "the holder's release frees it at once");
}

/// The job-lease cases, for [`crate::queue_contract_tests`].
#[doc(hidden)]
#[macro_export]
macro_rules! __job_lease_cases {
    ($factory:path) => {
        $crate::__contract_cases!(
            $factory,
            job_lease,
            [
                a_role_has_one_holder_at_a_time,
                an_expired_lease_passes_to_another_holder,
                release_frees_the_role_for_its_holder_only,
            ]
        );
    };
}
