#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e6+t.tv_nsec/1e3;}
int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
int main(int c,char**v){int n=atoi(v[2]);int fd=open(v[1],O_CREAT|O_WRONLY|O_TRUNC,0644);char buf[512]={1};double*l=malloc(n*sizeof(double));
for(int i=0;i<n;i++){write(fd,buf,sizeof buf);double t=now();fdatasync(fd);l[i]=now()-t;usleep(atoi(v[3]));}
qsort(l,n,sizeof(double),cmp);printf("fdatasync us p50 %.0f p90 %.0f p99 %.0f p99.9 %.0f max %.0f\n",l[n/2],l[n*9/10],l[n*99/100],l[n*999/1000],l[n-1]);}
