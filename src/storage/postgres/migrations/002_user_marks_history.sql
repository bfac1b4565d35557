-- Revocation marks become a history (a later mark must never bring back what an earlier one
-- revoked) and can be limited to one device (key reuse, mobile logout).
CREATE TABLE user_marks_v2 (
  id BIGSERIAL PRIMARY KEY,
  brand TEXT NOT NULL,
  uid BIGINT NOT NULL,
  not_before BIGINT NOT NULL,
  except_device TEXT,
  except_jti TEXT,
  only_device TEXT
);
INSERT INTO user_marks_v2 (brand, uid, not_before, except_device, except_jti)
  SELECT brand, uid, not_before, except_device, except_jti FROM user_marks;
DROP TABLE user_marks;
ALTER TABLE user_marks_v2 RENAME TO user_marks;
CREATE INDEX user_marks_user ON user_marks(brand, uid);
