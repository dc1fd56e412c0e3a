import type { StoppedTask } from '../../ports/task-control.js';

/**
 * A failure of the RunTask state, named the way the state machine sees it. Step Functions matches `Catch`
 * on an error's name and hands `{Error: name, Cause: message}` to the Fail step, so the name is the
 * contract here (`States.TaskFailed`, `States.Timeout`, `RUN_NO_LOCAL_COMMAND`, ...), not a class name.
 */
export class TaskStateError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = code;
  }
}

/** How AWS's `ecs:runTask.sync` reports a task that stopped unsuccessfully: the stopped task as JSON cause. */
export function taskFailed(task: StoppedTask): TaskStateError {
  return new TaskStateError('States.TaskFailed', JSON.stringify(task));
}
