//! TaskFlow embedded in a Rust program, with no HTTP: register a user, create a task, list tasks.

use taskflow_embedded::application::auth::Registration;
use taskflow_embedded::application::tasks::{CreateTask, ListTasks};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = taskflow_embedded::in_memory();
    let registration = Registration::parse("ada@example.com", "correct horse battery", "Ada")?;
    let me = app.auth.register(registration).await?.actor();
    app.tasks.create_task(me, CreateTask::titled("Write the embedding guide")?).await?;
    let page = app.tasks.list_tasks(me, ListTasks::default()).await?;
    for view in &page.items {
        println!("{} {} {}", view.task.status().as_str(), view.task.priority().as_str(), view.task.title());
    }
    assert_eq!(page.items.len(), 1);
    Ok(())
}
