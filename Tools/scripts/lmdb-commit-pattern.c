/* One durable commit per event, in several write patterns (BENCHMARKS.md,
 * "Found this session"): 0 = records + stream index (the raw side),
 * 1 = + event-id index + head in the main database, 2 = iplog today
 * (+ event ids, stream heads, meta).
 *   cc -O2 lmdb-commit-pattern.c -llmdb -o /tmp/pattern
 *   mkdir /tmp/e && /tmp/pattern /tmp/e 2 */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(int argc,char**argv){
  int mode=atoi(argv[2]);
  MDB_env*env; mdb_env_create(&env); mdb_env_set_mapsize(env,256<<20); mdb_env_set_maxdbs(env,8);
  if(mdb_env_open(env,argv[1],0,0600)){puts("open");return 1;}
  MDB_txn*t; MDB_dbi ev,idx,ids,heads,meta,mainx;
  mdb_txn_begin(env,0,0,&t); mdb_dbi_open(t,"events",MDB_CREATE,&ev);mdb_dbi_open(t,"idx",MDB_CREATE,&idx);mdb_dbi_open(t,"ids",MDB_CREATE,&ids);mdb_dbi_open(t,"heads",MDB_CREATE,&heads);mdb_dbi_open(t,"meta",MDB_CREATE,&meta);mdb_dbi_open(t,NULL,0,&mainx); mdb_txn_commit(t);
  char val[288]; memset(val,'x',288); srand(1);
  double s=now(); int n=2000;
  for(int i=0;i<n;i++){
    mdb_txn_begin(env,0,0,&t);
    unsigned long long k=__builtin_bswap64(i+1); MDB_val K={8,&k},V={288,val};
    mdb_put(t,ev,&K,&V,MDB_APPEND);
    char kk[32]; sprintf(kk,"case-%06d",rand()%2500); MDB_val S={strlen(kk)+9,kk}; 
    char ik[40]; memcpy(ik,kk,strlen(kk)+1); memcpy(ik+strlen(kk)+1,&k,8); MDB_val IK={strlen(kk)+9,ik},IV={8,&k};
    mdb_put(t,idx,&IK,&IV,0);
    if(mode>=1){ char id[16]; for(int q=0;q<16;q++) id[q]=rand(); MDB_val ID={16,id}; mdb_put(t,ids,&ID,&IV,0);}
    char hv[40]; memset(hv,1,40); MDB_val HV={40,hv}; MDB_val HK={4,"head"};
    if(mode==2){ MDB_val SK={strlen(kk),kk}; MDB_val SV={16,hv}; mdb_put(t,heads,&SK,&SV,0); mdb_put(t,meta,&HK,&HV,0);}
    if(mode==1){ mdb_put(t,mainx,&HK,&HV,0);}
    if(mdb_txn_commit(t)){puts("commit");return 1;}
  }
  printf("mode=%d: %.0f commits/s\n",mode,n/(now()-s));
}
