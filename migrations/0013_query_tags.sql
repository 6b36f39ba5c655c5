CREATE TABLE `query_tags` (
	`query_id` integer NOT NULL,
	`study_id` integer NOT NULL,
	`tag` text NOT NULL,
	PRIMARY KEY(`query_id`, `tag`),
	FOREIGN KEY (`query_id`) REFERENCES `queries`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`study_id`) REFERENCES `studies`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `query_tags_study_tag_idx` ON `query_tags` (`study_id`,`tag`);