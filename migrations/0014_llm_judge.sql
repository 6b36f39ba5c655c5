CREATE TABLE `judge_batches` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`study_id` integer NOT NULL,
	`state` text DEFAULT 'queued' NOT NULL,
	`pairs` integer NOT NULL,
	`model` text NOT NULL,
	`mode` text NOT NULL,
	`judged` integer DEFAULT 0 NOT NULL,
	`position_bias` integer DEFAULT 0 NOT NULL,
	`failures` integer DEFAULT 0 NOT NULL,
	`cost_usd` real DEFAULT 0 NOT NULL,
	`error` text,
	`requested_by` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`study_id`) REFERENCES `studies`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `judge_batches_study_idx` ON `judge_batches` (`study_id`,`id`);--> statement-breakpoint
CREATE TABLE `judge_verdicts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`study_id` integer NOT NULL,
	`batch_id` integer NOT NULL,
	`vote_id` integer NOT NULL,
	`query_id` integer NOT NULL,
	`prompt_a_id` integer NOT NULL,
	`prompt_b_id` integer NOT NULL,
	`a_first` text NOT NULL,
	`b_first` text NOT NULL,
	`winner` text NOT NULL,
	`position_bias` integer NOT NULL,
	`rationale_a_first` text NOT NULL,
	`rationale_b_first` text NOT NULL,
	`prompt_tokens` integer,
	`completion_tokens` integer,
	`cost_usd` real,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`study_id`) REFERENCES `studies`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`batch_id`) REFERENCES `judge_batches`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`vote_id`) REFERENCES `votes`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`query_id`) REFERENCES `queries`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`prompt_a_id`) REFERENCES `prompts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`prompt_b_id`) REFERENCES `prompts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `judge_verdicts_pair_unique` ON `judge_verdicts` (`study_id`,`query_id`,`prompt_a_id`,`prompt_b_id`);--> statement-breakpoint
CREATE INDEX `judge_verdicts_batch_idx` ON `judge_verdicts` (`batch_id`);--> statement-breakpoint
CREATE INDEX `judge_verdicts_vote_idx` ON `judge_verdicts` (`vote_id`);--> statement-breakpoint
CREATE TABLE `study_judges` (
	`study_id` integer PRIMARY KEY NOT NULL,
	`annotator_id` integer NOT NULL,
	`model` text NOT NULL,
	`instruction` text NOT NULL,
	`mode` text DEFAULT 'separate' NOT NULL,
	`max_pairs` integer,
	`max_cost_usd` real,
	`pairs_per_minute` integer DEFAULT 60 NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`study_id`) REFERENCES `studies`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`annotator_id`) REFERENCES `annotators`(`id`) ON UPDATE no action ON DELETE cascade
);
