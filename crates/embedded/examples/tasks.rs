//! A command-line task tool with TaskFlow embedded in process over the in-memory store: no server, no database.
//!
//! Commands come from the arguments, separated by `;`, or else one per line from standard input:
//!
//! ```text
//! cargo run -p taskflow-embedded --example tasks -- 'add Buy milk !high; add File taxes @2026-12-31; done 1; ls'
//! ```
//!
//! `add TITLE [!low|!high] [@YYYY-MM-DD]`, `start N`, `done N`, `reopen N`, `rm N`, `ls [pending|in_progress|
//! completed]`, `stats`, `history N`, `help`. `N` is the number `add` printed.

use std::io::BufRead as _;

use taskflow_embedded::application::auth::Registration;
use taskflow_embedded::application::tasks::{CreateTask, ListTasks};
use taskflow_embedded::chrono::{NaiveDate, NaiveTime};
use taskflow_embedded::domain::TaskId;
use taskflow_embedded::domain::policy::Actor;
use taskflow_embedded::domain::task::{NewTask, TaskPatch, TaskPriority, TaskStatus, TaskTitle};
use taskflow_embedded::{App, AppError};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The embedded application, the one user everything is done as, and the tasks by the number shown for them.
struct Tool {
    app: App,
    me: Actor,
    numbers: Vec<TaskId>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let app = taskflow_embedded::in_memory();
    let me = app.auth.register(Registration::parse("me@localhost.localdomain", "not a real password", "Me")?).await?;
    let mut tool = Tool { app, me: me.actor(), numbers: Vec::new() };
    let commands: Vec<String> = match std::env::args().skip(1).collect::<Vec<_>>().join(" ") {
        joined if joined.trim().is_empty() => std::io::stdin().lock().lines().collect::<std::io::Result<_>>()?,
        joined => joined.split(';').map(str::to_owned).collect(),
    };
    for command in commands.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        if let Err(err) = tool.run(command).await {
            println!("{command}: {}", explain(&*err));
        }
    }
    Ok(())
}

impl Tool {
    async fn run(&mut self, command: &str) -> Result<()> {
        let (verb, rest) = command.split_once(' ').unwrap_or((command, ""));
        match verb {
            "add" => self.add(rest).await,
            "start" => self.set_status(rest, TaskStatus::InProgress).await,
            "done" => self.set_status(rest, TaskStatus::Completed).await,
            "reopen" => self.set_status(rest, TaskStatus::Pending).await,
            "rm" => Ok(self.app.tasks.delete_task(self.me, self.task(rest)?).await?),
            "ls" => self.list(rest).await,
            "stats" => {
                let stats = self.app.tasks.task_stats(self.me, None).await?;
                let s = stats.by_status;
                println!(
                    "{} tasks: {} pending, {} in progress, {} completed, {} overdue",
                    stats.total, s.pending, s.in_progress, s.completed, stats.overdue
                );
                Ok(())
            }
            "history" => {
                for event in self.app.tasks.task_history(self.me, self.task(rest)?, None, 100).await?.events {
                    println!(
                        "v{} {} at {}",
                        event.task.version(),
                        event.kind.as_str(),
                        event.occurred_at.format("%H:%M:%S")
                    );
                }
                Ok(())
            }
            _ => {
                println!("add TITLE [!low|!high] [@YYYY-MM-DD] | start|done|reopen|rm|history N | ls [STATUS] | stats");
                Ok(())
            }
        }
    }

    async fn add(&mut self, args: &str) -> Result<()> {
        let (mut title, mut priority, mut due_date) = (Vec::new(), TaskPriority::default(), None);
        for word in args.split_whitespace() {
            if let Some(name) = word.strip_prefix('!') {
                priority = TaskPriority::parse(&name.to_uppercase())?;
            } else if let Some(day) = word.strip_prefix('@') {
                due_date = Some(NaiveDate::parse_from_str(day, "%Y-%m-%d")?.and_time(NaiveTime::MIN).and_utc());
            } else {
                title.push(word);
            }
        }
        let task = NewTask { priority, due_date, ..NewTask::new(TaskTitle::parse(&title.join(" "))?) };
        let view = self.app.tasks.create_task(self.me, CreateTask::new(task)).await?;
        self.numbers.push(view.task.id());
        println!("{} added: {}", self.numbers.len(), view.task.title());
        Ok(())
    }

    async fn set_status(&self, number: &str, status: TaskStatus) -> Result<()> {
        let patch = TaskPatch { status: Some(status), ..TaskPatch::default() };
        let view = self.app.tasks.update_task(self.me, self.task(number)?, patch, None).await?;
        println!("{}: {}", view.task.title(), view.task.status().as_str());
        Ok(())
    }

    async fn list(&self, status: &str) -> Result<()> {
        let statuses = match status.trim() {
            "" => Vec::new(),
            name => vec![TaskStatus::parse(&name.to_uppercase())?],
        };
        let page = self.app.tasks.list_tasks(self.me, ListTasks { statuses, ..ListTasks::default() }).await?;
        for view in page.items {
            let task = view.task;
            let number = self.numbers.iter().position(|id| *id == task.id()).map_or(0, |i| i + 1);
            let due = task.due_date().map(|d| format!(" due {}", d.date_naive())).unwrap_or_default();
            println!(
                "{number:>3} {:<11} {:<6} {}{due}",
                task.status().as_str(),
                task.priority().as_str(),
                task.title()
            );
        }
        Ok(())
    }

    /// The task shown as `number`.
    fn task(&self, number: &str) -> Result<TaskId> {
        let n: usize = number.trim().parse().map_err(|_| format!("{number:?} is not a task number"))?;
        Ok(*self.numbers.get(n.wrapping_sub(1)).ok_or(format!("there is no task {n}"))?)
    }
}

/// The error with what the use case said was wrong with each member, if it said.
fn explain(err: &(dyn std::error::Error + 'static)) -> String {
    match err.downcast_ref::<AppError>() {
        Some(AppError::Validation(fields)) => {
            fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ")
        }
        _ => err.to_string(),
    }
}
