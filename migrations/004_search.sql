-- 004_search.sql — indexed text search for the upload list.  `q` used to be
-- LIKE '%…%' over every upload's note/case/customer, its report's search
-- text and its file names: a scan of the whole store per search.  Trigram
-- FTS5 indexes answer the same substring question (case-insensitive, three
-- characters or more; shorter queries still use LIKE) from an index.  They
-- are external-content tables: the text stays in its own table once, the
-- triggers keep the indexes in step.
CREATE VIRTUAL TABLE upload_search USING fts5(note, case_id, customer,
    content='uploads', content_rowid='seq', tokenize='trigram');
CREATE TRIGGER uploads_search_ai AFTER INSERT ON uploads BEGIN
    INSERT INTO upload_search(rowid, note, case_id, customer) VALUES (new.seq, new.note, new.case_id, new.customer);
END;
CREATE TRIGGER uploads_search_ad AFTER DELETE ON uploads BEGIN
    INSERT INTO upload_search(upload_search, rowid, note, case_id, customer)
        VALUES ('delete', old.seq, old.note, old.case_id, old.customer);
END;
CREATE TRIGGER uploads_search_au AFTER UPDATE OF note, case_id, customer ON uploads BEGIN
    INSERT INTO upload_search(upload_search, rowid, note, case_id, customer)
        VALUES ('delete', old.seq, old.note, old.case_id, old.customer);
    INSERT INTO upload_search(rowid, note, case_id, customer) VALUES (new.seq, new.note, new.case_id, new.customer);
END;
INSERT INTO upload_search(upload_search) VALUES ('rebuild');

CREATE VIRTUAL TABLE report_search USING fts5(search_text,
    content='reports', content_rowid='id', tokenize='trigram');
CREATE TRIGGER reports_search_ai AFTER INSERT ON reports BEGIN
    INSERT INTO report_search(rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER reports_search_ad AFTER DELETE ON reports BEGIN
    INSERT INTO report_search(report_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER reports_search_au AFTER UPDATE OF search_text ON reports BEGIN
    INSERT INTO report_search(report_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO report_search(rowid, search_text) VALUES (new.id, new.search_text);
END;
INSERT INTO report_search(report_search) VALUES ('rebuild');

CREATE VIRTUAL TABLE file_search USING fts5(name,
    content='files', content_rowid='id', tokenize='trigram');
CREATE TRIGGER files_search_ai AFTER INSERT ON files BEGIN
    INSERT INTO file_search(rowid, name) VALUES (new.id, new.name);
END;
CREATE TRIGGER files_search_ad AFTER DELETE ON files BEGIN
    INSERT INTO file_search(file_search, rowid, name) VALUES ('delete', old.id, old.name);
END;
CREATE TRIGGER files_search_au AFTER UPDATE OF name ON files BEGIN
    INSERT INTO file_search(file_search, rowid, name) VALUES ('delete', old.id, old.name);
    INSERT INTO file_search(rowid, name) VALUES (new.id, new.name);
END;
INSERT INTO file_search(file_search) VALUES ('rebuild');
